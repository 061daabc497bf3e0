// Flags: command-line parsing for spr's subcommands.
// Accepts `--name value`, `--name=value` and boolean `--name`; anything not starting
// with `--` is positional. Unknown flags, malformed values and a flag given twice are
// errors that name the flag and the fix. Not thread-safe; parse once in main().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace spr {

class Flags {
 public:
  // `command` is the full command as the user types it, e.g. "spr journal verify".
  explicit Flags(std::string command, std::string summary = "");

  void addString(const std::string& name, const std::string& help, const std::string& def = "");
  void addInt(const std::string& name, const std::string& help, int64_t def);
  void addBool(const std::string& name, const std::string& help);

  // Parses args (without the program and subcommand words). `--help` sets helpRequested().
  Status parse(const std::vector<std::string>& args);

  bool helpRequested() const { return help_; }
  // True when the user gave the flag explicitly.
  bool given(const std::string& name) const;
  std::string getString(const std::string& name) const;
  int64_t getInt(const std::string& name) const;
  bool getBool(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  std::string usage() const;
  const std::string& command() const { return command_; }
  // The "exit codes:" line of usage(); the default is every command's 0 / 1 / 2.
  void setExitCodes(std::string text) { exitCodes_ = std::move(text); }

 private:
  enum class Kind { kString, kInt, kBool };
  struct Def {
    Kind kind;
    std::string help;
    std::string value;
    bool given = false;
  };
  std::string command_;
  std::string summary_;
  std::string exitCodes_ = "0 success; 1 a failed check or a failure at run time; 2 bad input (flags, files)";
  std::map<std::string, Def> defs_;
  std::vector<std::string> order_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// How every subcommand starts: parses `args`. A flag error or an unexpected positional
// argument prints "<command>: <what is wrong>" to stderr and yields 2; --help prints the
// usage and yields 0; nullopt means go on.
std::optional<int> parseCommandLine(Flags& flags, const std::vector<std::string>& args, bool positionalAllowed = false);

}  // namespace spr
