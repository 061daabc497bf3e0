// Helpers for the journal tests: temporary directories, sample records, and running
// a program (the spr binary, ldb) as a real process. Not thread-safe; one per test.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/journal/record.h"
#include "tests/support/paths.h"

extern char** environ;

namespace spr::journal::testing {

// A fresh directory under $TMPDIR, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "spr-journal-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline ObjectId objectId(const std::string& ns, const std::string& name) {
  return ObjectId{"onboarding", "crossplane.services.open-control-plane.io", "v1alpha1", "Crossplane", ns, name,
                  "uid-" + name};
}

// An Observed record for object ns/name owned by `tenant`.
inline Record observed(const std::string& tenant, const std::string& ns, const std::string& name,
                       const std::string& rv = "1") {
  Record r;
  r.object = objectId(ns, name);
  r.tenant = tenant;
  r.wallUnixNanos = 1700000000000000000;
  r.payload = Observed{"onboarding", WatchType::kModified, R"({"metadata":{"name":")" + name + R"("}})", rv, 3};
  return r;
}

struct RunResult {
  int exitCode = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs argv[0] (a path) with its stdout and stderr captured; waits for it to exit.
inline RunResult run(const std::vector<std::string>& argv, const std::string& scratchDir) {
  const std::string outPath = scratchDir + "/run.out", errPath = scratchDir + "/run.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  RunResult result;
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  result.out = slurp(outPath);
  result.err = slurp(errPath);
  return result;
}

using spr::testing::sprBinary;

}  // namespace spr::journal::testing
