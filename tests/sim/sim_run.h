// Runs the kmem-sim binary as a user would: status, stdout, stderr.
#pragma once

#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace kmem {

namespace fs = std::filesystem;

struct SimRun {
    int status = -1;
    std::string out, err;
};

inline SimRun run_sim(const std::string &args) {
    fs::create_directories(KMEM_SIM_WORK_DIR);
    const std::string err_path = std::string(KMEM_SIM_WORK_DIR) + "/stderr." +
                                 std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    const std::string cmd = std::string(KMEM_SIM) + " " + args + " 2>" + err_path;
    const test::CommandResult c = test::run_command(cmd);
    SimRun r;
    r.status = c.status;
    r.out = c.out;
    r.err = test::read_file(err_path);
    return r;
}

} // namespace kmem
