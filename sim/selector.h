// Label selectors as the API server parses them from ?labelSelector=: `k=v`, `k==v`,
// `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist), joined by
// commas; and ?fieldSelector= for metadata.name / metadata.namespace. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace spr::sim {

class LabelSelector {
 public:
  // kInvalidArgument with a message naming the bad term.
  [[nodiscard]] static Result<LabelSelector> parse(const std::string& text);
  bool matches(const nlohmann::json& labels) const;  // labels: metadata.labels (object or null)
  bool empty() const { return terms_.empty(); }

 private:
  enum class Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists };
  struct Term {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Term> terms_;
};

// ?fieldSelector=metadata.name=x,metadata.namespace=y (= / == / != only).
class FieldSelector {
 public:
  [[nodiscard]] static Result<FieldSelector> parse(const std::string& text);
  bool matches(const nlohmann::json& object) const;

 private:
  struct Term {
    std::string field;
    bool equal;
    std::string value;
  };
  std::vector<Term> terms_;
};

}  // namespace spr::sim
