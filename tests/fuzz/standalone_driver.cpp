// A stand-in for libFuzzer in the normal (GCC) build: runs LLVMFuzzerTestOneInput over
// every file of the given corpus directories (or files), then over a bounded number of
// deterministic mutations of them, so ctest exercises each fuzz target in seconds.
// Usage: fuzz_<name> [--mutations N] [--seed S] PATH...   Single-threaded.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

struct Args {
  long mutations = 1000;
  uint64_t seed = 20261128;
  std::vector<std::string> paths;
};

bool parseArgs(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--mutations" || a == "--seed") && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0') {
        std::fprintf(stderr, "%s: %s is not a number\n", a.c_str(), argv[i]);
        return false;
      }
      (a == "--mutations" ? static_cast<void>(args.mutations = static_cast<long>(v))
                          : static_cast<void>(args.seed = v));
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown flag %s (use --mutations N, --seed S, then corpus paths)\n", a.c_str());
      return false;
    } else {
      args.paths.push_back(a);
    }
  }
  return true;
}

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every regular file under the paths, sorted so runs are reproducible. A missing path
// is skipped (a target may have no regressions yet).
std::vector<std::filesystem::path> inputs(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) out.emplace_back(p);
    if (!std::filesystem::is_directory(p, ec)) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(p, ec)) {
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One libFuzzer-like mutation: flip, overwrite with an interesting byte, insert, erase,
// duplicate a span, or splice in part of another input.
std::string mutate(std::string s, const std::vector<std::string>& all, std::mt19937_64& rng) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  static const char kInteresting[] = {'\0', '\xff', '\x7f', '\x80', '{', '}', '"', '\n', ':', ',', '-', '1'};
  const int steps = 1 + static_cast<int>(below(4));
  for (int i = 0; i < steps; ++i) {
    const size_t pos = below(s.size() + 1);
    switch (below(6)) {
      case 0:
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1:
        if (!s.empty()) s[below(s.size())] = kInteresting[below(sizeof kInteresting)];
        break;
      case 2: s.insert(pos, 1, kInteresting[below(sizeof kInteresting)]); break;
      case 3: s.erase(pos, below(16) + 1); break;
      case 4: {
        const size_t from = below(s.size() + 1);
        s.insert(pos, s.substr(from, below(32) + 1));
        break;
      }
      default: {
        const std::string& other = all[below(all.size())];
        const size_t from = below(other.size() + 1);
        s = s.substr(0, pos) + other.substr(from, below(64) + 1) + s.substr(std::min(s.size(), pos + below(64)));
      }
    }
  }
  return s;
}

// The input being run, written to ./crash-input by the signal handler when it crashes,
// so the failure can be replayed and kept under tests/fuzz/regressions/.
const uint8_t* gCurrent = nullptr;
size_t gCurrentSize = 0;

void onCrash(int sig) {
  const int fd = ::open("crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    if (gCurrentSize > 0 && ::write(fd, gCurrent, gCurrentSize) < 0) {
    }
    ::close(fd);
  }
  static const char kMsg[] = "fuzz target crashed; its input is in ./crash-input\n";
  if (::write(2, kMsg, sizeof kMsg - 1) < 0) {
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void runOne(const std::string& data) {
  // A copy in its own allocation, so an overread is visible to sanitizers/valgrind.
  std::vector<uint8_t> copy(data.begin(), data.end());
  gCurrent = copy.data();
  gCurrentSize = copy.size();
  LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) return 2;
  const auto files = inputs(args.paths);
  if (files.empty()) {
    std::fprintf(stderr, "no inputs under the given paths: pass the target's corpus directory\n");
    return 2;
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, onCrash);
  std::vector<std::string> all;
  for (const auto& f : files) {
    all.push_back(readFile(f));
    runOne(all.back());
  }
  std::mt19937_64 rng(args.seed);
  for (long i = 0; i < args.mutations; ++i) runOne(mutate(all[rng() % all.size()], all, rng));
  std::printf("ran %zu inputs and %ld mutations\n", files.size(), args.mutations);
  return 0;
}
