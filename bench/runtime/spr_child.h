// Starts a real `spr run` child for the runtime benchmarks (e2e_bench, soak_bench): the
// crossplane provider against a kubeconfig's onboarding and platform contexts, its stderr
// written to a log file. Single-threaded use from the benchmark's main thread.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace spr::bench {

// Returns the child's pid, or -1 when it could not be started. `extra` flags follow the
// fixed ones (journal, contexts, WARN verbosity).
inline pid_t spawnSprRun(const std::string& binary, const std::string& kubeconfig, const std::string& journal,
                         const std::string& log, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {binary,
                                   "run",
                                   "--provider-name",
                                   "crossplane",
                                   "--onboarding-kubeconfig",
                                   kubeconfig + "#onboarding",
                                   "--platform-kubeconfig",
                                   kubeconfig + "#platform",
                                   "--journal",
                                   journal,
                                   "--verbosity",
                                   "WARN"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

}  // namespace spr::bench
