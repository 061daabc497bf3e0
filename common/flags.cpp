#include "common/flags.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace spr {

Flags::Flags(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

void Flags::addString(const std::string& name, const std::string& help, const std::string& def) {
  defs_[name] = Def{Kind::kString, help, def};
  order_.push_back(name);
}

void Flags::addInt(const std::string& name, const std::string& help, int64_t def) {
  defs_[name] = Def{Kind::kInt, help, std::to_string(def)};
  order_.push_back(name);
}

void Flags::addBool(const std::string& name, const std::string& help) {
  defs_[name] = Def{Kind::kBool, help, "false"};
  order_.push_back(name);
}

static bool parseInt(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

Status Flags::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool hasValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    auto it = defs_.find(name);
    if (it == defs_.end()) {
      return Status(Code::kInvalidArgument, "unknown flag --" + name + " for '" + command_ + "'; run '" + command_ +
                                                " --help' for the flags it takes");
    }
    Def& def = it->second;
    if (def.given) {
      return Status(Code::kInvalidArgument,
                    "flag --" + name + " is given twice; give it once (each flag takes one value)");
    }
    if (def.kind == Kind::kBool) {
      if (hasValue && value != "true" && value != "false") {
        return Status(Code::kInvalidArgument, "flag --" + name + " takes true or false, got '" + value + "'");
      }
      def.value = hasValue ? value : "true";
      def.given = true;
      continue;
    }
    if (!hasValue) {
      if (i + 1 >= args.size()) {
        return Status(Code::kInvalidArgument, "flag --" + name + " needs a value (--" + name + " VALUE)");
      }
      value = args[++i];
    }
    if (def.kind == Kind::kInt) {
      int64_t parsed = 0;
      if (!parseInt(value, &parsed)) {
        return Status(Code::kInvalidArgument, "flag --" + name + " takes a whole number, got '" + value + "'");
      }
    }
    def.value = value;
    def.given = true;
  }
  return Status::ok();
}

bool Flags::given(const std::string& name) const {
  auto it = defs_.find(name);
  return it != defs_.end() && it->second.given;
}

std::string Flags::getString(const std::string& name) const {
  auto it = defs_.find(name);
  return it == defs_.end() ? std::string() : it->second.value;
}

int64_t Flags::getInt(const std::string& name) const {
  int64_t v = 0;
  auto it = defs_.find(name);
  if (it != defs_.end()) parseInt(it->second.value, &v);
  return v;
}

bool Flags::getBool(const std::string& name) const { return getString(name) == "true"; }

std::string Flags::usage() const {
  std::ostringstream out;
  out << "usage: " << command_ << " [flags]\n";
  if (!summary_.empty()) out << "\n" << summary_ << "\n";
  if (!order_.empty()) out << "\nflags:\n";
  for (const auto& name : order_) {
    const Def& def = defs_.at(name);
    std::string left = "  --" + name + (def.kind == Kind::kBool ? "" : " VALUE");
    out << left;
    if (left.size() < 34)
      out << std::string(34 - left.size(), ' ');
    else
      out << "\n" << std::string(34, ' ');
    out << def.help;
    if (def.kind != Kind::kBool && !def.value.empty()) out << " (default " << def.value << ")";
    out << "\n";
  }
  out << "\nexit codes: " << exitCodes_ << "\n";
  return out.str();
}

std::optional<int> parseCommandLine(Flags& flags, const std::vector<std::string>& args, bool positionalAllowed) {
  Status parsed = flags.parse(args);
  if (!parsed.isOk()) {
    std::fprintf(stderr, "%s: %s\n", flags.command().c_str(), parsed.message().c_str());
    return 2;
  }
  if (flags.helpRequested()) {
    std::printf("%s\n", flags.usage().c_str());
    return 0;
  }
  if (!positionalAllowed && !flags.positional().empty()) {
    std::fprintf(stderr, "%s: unexpected argument '%s'; flags start with --, see --help\n", flags.command().c_str(),
                 flags.positional().front().c_str());
    return 2;
  }
  return std::nullopt;
}

}  // namespace spr
