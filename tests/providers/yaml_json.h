// YAML (yaml-cpp) to nlohmann::json for tests that compare manifests under deploy/ with
// what the code produces. Plain scalars follow YAML 1.2's core schema (true/false, null,
// integers, floats); quoted scalars are strings. Pure; thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

namespace spr::testing {

inline nlohmann::json yamlToJson(const YAML::Node& node) {
  using nlohmann::json;
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = yamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = node.Scalar();
      if (node.Tag() != "?") return s;  // quoted: always a string
      static const std::regex kInt("^[-+]?[0-9]+$"),
          kFloat("^[-+]?([0-9]*\\.[0-9]+|[0-9]+\\.[0-9]*)([eE][-+]?[0-9]+)?$");
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      if (std::regex_match(s, kInt)) return std::stoll(s);
      if (std::regex_match(s, kFloat)) return std::stod(s);
      return s;
    }
    default: return nullptr;
  }
}

}  // namespace spr::testing
