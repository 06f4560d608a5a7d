// SPDX-License-Identifier: MIT
//
// DOC: UEFI memory types and attributes -> kmem MemType (private to memmap/).
//
// Shared by the raw EFI_MEMORY_DESCRIPTOR parser and the parser of Linux's
// "efi: memNN:" console lines, so both read a UEFI map the same way.
#pragma once

#include <kmem/memmap.h>

#include <stdint.h>

namespace kmem::detail {

// UEFI 2.10, 7.2 EFI_BOOT_SERVICES.AllocatePages(): EFI_MEMORY_TYPE.
enum EfiType : uint32_t {
    kEfiReserved = 0,
    kEfiLoaderCode = 1,
    kEfiLoaderData = 2,
    kEfiBootServicesCode = 3,
    kEfiBootServicesData = 4,
    kEfiRuntimeServicesCode = 5,
    kEfiRuntimeServicesData = 6,
    kEfiConventional = 7,
    kEfiUnusable = 8,
    kEfiAcpiReclaim = 9,
    kEfiAcpiNvs = 10,
    kEfiMmio = 11,
    kEfiMmioPortSpace = 12,
    kEfiPalCode = 13,
    kEfiPersistent = 14,
    kEfiUnaccepted = 15,
    kEfiTypeCount = 16,
    kEfiOemFirst = 0x70000000, // 0x70000000..0x7fffffff: OEM, 0x80000000..: OS loader
};

inline constexpr uint64_t kEfiAttrSpecificPurpose = uint64_t{1} << 18; // EFI_MEMORY_SP
inline constexpr uint64_t kEfiAttrRuntime = uint64_t{1} << 63;        // EFI_MEMORY_RUNTIME

// Map an EFI memory type and its attributes to a MemType. Returns false for a
// type the specification does not define (16..0x6fffffff); OEM- and
// OS-defined types are firmware-owned and read as reserved.
//
// Loader code/data and boot-services code/data are RAM once the OS owns the
// machine (ExitBootServices), so they are usable. Memory the firmware needs at
// runtime (runtime services, or any range carrying EFI_MEMORY_RUNTIME) and
// "specific purpose" memory (EFI_MEMORY_SP, Linux's soft reserved) are kept
// reserved. Unaccepted memory (confidential-computing guests) must be accepted
// before use, which kmem does not do, so it is unusable.
inline bool efi_to_mem_type(uint32_t type, uint64_t attr, MemType &out) {
    switch (type) {
    case kEfiLoaderCode:
    case kEfiLoaderData:
    case kEfiBootServicesCode:
    case kEfiBootServicesData:
    case kEfiConventional:
        out = (attr & (kEfiAttrRuntime | kEfiAttrSpecificPurpose)) ? MemType::reserved
                                                                   : MemType::usable;
        return true;
    case kEfiUnusable:
    case kEfiUnaccepted: out = MemType::unusable; return true;
    case kEfiAcpiReclaim: out = MemType::acpi_reclaimable; return true;
    case kEfiAcpiNvs: out = MemType::acpi_nvs; return true;
    case kEfiPersistent: out = MemType::persistent; return true;
    case kEfiReserved:
    case kEfiRuntimeServicesCode:
    case kEfiRuntimeServicesData:
    case kEfiMmio:
    case kEfiMmioPortSpace:
    case kEfiPalCode: out = MemType::reserved; return true;
    default:
        if (type >= kEfiOemFirst) {
            out = MemType::reserved;
            return true;
        }
        return false;
    }
}

} // namespace kmem::detail
