// SPDX-License-Identifier: MIT
//
// The simulated machine kmem-bench's benchmarks run on: RAM [1 MiB, bytes)
// on node 0, all of it mapped, the buddy bootstrapped over it. The memory is
// global to the hosted platform, so a machine lives exactly as long as one
// benchmark run.
#pragma once

#include <kmem/buddy.h>
#include <kmem/memmap.h>

#include "platform/hosted/hosted.h"

#include <memory>
#include <string>

namespace kmem::bench {

struct SimMachine {
    std::unique_ptr<PhysAllocator> phys;
    std::string error;

    explicit SimMachine(uint64_t bytes) {
        if (Status s = hosted::create_physical_memory(bytes); !s.ok()) {
            error = std::string("create_physical_memory: ") + s.reason();
            return;
        }
        if (Status s = hosted::map_physical_range(0, bytes); !s.ok()) {
            error = std::string("map_physical_range: ") + s.reason();
            return;
        }
        StaticMemoryMap<8> map;
        if (Status s = map.add(uint64_t{1} << 20, bytes, MemType::usable, 0); !s.ok()) {
            error = std::string("map.add: ") + s.reason();
            return;
        }
        phys = std::make_unique<PhysAllocator>();
        if (Status s = phys->bootstrap(map, 0, bytes); !s.ok()) {
            error = std::string("bootstrap: ") + s.reason();
            phys.reset();
        }
    }
    ~SimMachine() {
        phys.reset();
        hosted::destroy_physical_memory();
    }
    SimMachine(const SimMachine &) = delete;
    SimMachine &operator=(const SimMachine &) = delete;
    bool ok() const { return phys != nullptr; }
};

} // namespace kmem::bench
