#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# DOC: CMake configures and builds a small C project (malloc shim `real` test).
# usage: cmake_workload.sh PROJECT_DIR. Parallel build output is in no fixed
# order, so only what is fixed is printed: the configure log, the count of
# compiled objects and the program's own output.
set -euo pipefail
export LC_ALL=C
cmake -S "$1" -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j4 >build.log 2>&1
echo "objects compiled: $(grep -c 'Building C object' build.log)"
./build/shimdemo
