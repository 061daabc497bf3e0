#include "common/yaml_json.h"

#include <regex>
#include <string>

namespace spr {

namespace {

nlohmann::json coreScalar(const YAML::Node& node) {
  const std::string s = node.Scalar();
  if (node.Tag() != "?") return s;  // quoted: always a string
  static const std::regex kInt("^[-+]?[0-9]+$"), kFloat("^[-+]?([0-9]*\\.[0-9]+|[0-9]+\\.[0-9]*)([eE][-+]?[0-9]+)?$");
  if (s == "true" || s == "false") return s == "true";
  if (s == "null" || s == "~" || s.empty()) return nullptr;
  if (std::regex_match(s, kInt)) return std::stoll(s);
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

}  // namespace

nlohmann::json yamlToJson(const YAML::Node& node, YamlScalars scalars) {
  using nlohmann::json;
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = yamlToJson(kv.second, scalars);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yamlToJson(item, scalars));
      return out;
    }
    case YAML::NodeType::Scalar: return scalars == YamlScalars::kStrings ? json(node.Scalar()) : coreScalar(node);
    default: return nullptr;
  }
}

}  // namespace spr
