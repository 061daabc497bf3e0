// The subcommands of `spr`. Each takes the arguments after its own name and returns
// the process exit code: 0 success, 1 a failed check (divergence, bad chain), 2 bad
// input (flags, files). main() dispatches; no global registry.
#pragma once

#include <string>
#include <vector>

namespace spr::cli {

using Args = std::vector<std::string>;

int cmdJournal(const Args& args);   // spr journal verify|stats|export|compact
int cmdSim(const Args& args);       // spr sim: the local API server
int cmdRun(const Args& args);       // spr run: the operator
int cmdDemo(const Args& args);      // spr demo
int cmdInit(const Args& args);      // spr init: install CRDs (openmcp init job)
int cmdValidate(const Args& args);  // spr validate: the seed's validation flow
int cmdReplay(const Args& args);    // spr replay
int cmdAudit(const Args& args);     // spr audit

}  // namespace spr::cli
