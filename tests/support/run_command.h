// Runs a shell command in a real child process and returns what it printed (stdout and
// stderr together). `status` gets pclose()'s wait status.
#pragma once

#include <array>
#include <cstdio>
#include <string>

namespace spr::testing {

inline std::string runCommand(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) {
    *status = -1;
    return out;
  }
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  *status = ::pclose(pipe);
  return out;
}

}  // namespace spr::testing
