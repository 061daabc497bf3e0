// openMCP naming: where a MCP's objects live on the platform cluster. Pure functions.
#pragma once

#include <string>

namespace spr::k8s {

// openMCP's UUID of an onboarding object: SHAKE128("<namespace>/<name>"), first 16 bytes,
// as a version-8 UUID (byte 6 = (b & 0x0f) | 0x80, byte 8 = (b & 0x3f) | 0x80), lower-case.
std::string openmcpUuid(const std::string& ns, const std::string& name);
// "mcp--<uuid>": the platform namespace holding the MCP's ClusterRequest.
// mcpNamespace("project-acme--ws-dev", "mcp-1") == "mcp--d5327100-d228-8cd9-be48-61ec3c9314a7".
std::string mcpNamespace(const std::string& ns, const std::string& name);

}  // namespace spr::k8s
