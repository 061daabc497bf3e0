// Starts a child process from a test with posix_spawn: nothing runs in the child between
// fork and exec, so a test process with many threads (the in-process local API server's,
// the operator's) cannot leave the child hung on a lock another thread held at fork time,
// as fopen, malloc or setenv after a plain fork() can. Header-only; thread-safe.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace spr::testing {

struct SpawnOptions {
  std::string stdoutPath, stderrPath;  // "" = inherited
  bool append = true;                  // else the files are truncated
  int outputFd = -1;                   // >= 0: stdout and stderr go to this descriptor (e.g. a pipe)
  std::vector<std::string> unsetEnv;   // variables the child does not get
};

// Returns the child's pid, or -1 if it could not be started.
inline pid_t spawnProcess(std::vector<std::string> args, const SpawnOptions& o = {}) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    bool dropped = false;
    for (const auto& name : o.unsetEnv)
      dropped = dropped || (std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=');
    if (!dropped) envp.push_back(*e);
  }
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int flags = O_WRONLY | O_CREAT | (o.append ? O_APPEND : O_TRUNC);
  if (!o.stdoutPath.empty()) posix_spawn_file_actions_addopen(&actions, 1, o.stdoutPath.c_str(), flags, 0644);
  if (!o.stderrPath.empty()) posix_spawn_file_actions_addopen(&actions, 2, o.stderrPath.c_str(), flags, 0644);
  if (o.outputFd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, o.outputFd, 1);
    posix_spawn_file_actions_adddup2(&actions, o.outputFd, 2);
  }
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

}  // namespace spr::testing
