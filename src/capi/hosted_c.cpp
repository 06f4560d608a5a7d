// SPDX-License-Identifier: MIT
//
// DOC: the C side of include/kmem/hosted.h: the hosted platform's helpers
// (simulated physical memory, the mapped window) for C programs. Hosted
// builds only (kmem::core), never the freestanding archives.
#include <kmem/hosted.h>

#include "platform/hosted/hosted.h"

namespace {

kmem_errc report(kmem_error *err, const kmem::Status &s) {
    if (err) {
        err->code = static_cast<kmem_errc>(s.code());
        err->where = static_cast<kmem_where>(s.error().where);
        err->at = s.error().at;
        err->reason = s.reason() ? s.reason() : "";
    }
    return static_cast<kmem_errc>(s.code());
}

} // namespace

extern "C" {

kmem_errc kmem_hosted_create_memory(uint64_t size, kmem_error *err) {
    return report(err, kmem::hosted::create_physical_memory(size));
}

void kmem_hosted_destroy_memory(void) { kmem::hosted::destroy_physical_memory(); }

uint8_t *kmem_hosted_memory_base(void) { return kmem::hosted::physical_memory_base(); }

kmem_errc kmem_hosted_map(uint64_t start, uint64_t end, kmem_error *err) {
    return report(err, kmem::hosted::map_physical_range(start, end));
}

kmem_errc kmem_hosted_mapped(void *, uint64_t start, uint64_t end) { return kmem_hosted_map(start, end, nullptr); }

uint64_t kmem_hosted_resident_bytes(void) { return kmem::hosted::resident_bytes(); }

} // extern "C"
