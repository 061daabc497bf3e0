#include "sim/selector.h"

namespace spr::sim {

using nlohmann::json;

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> splitTerms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!trim(cur).empty() || !out.empty()) out.push_back(trim(cur));
  return out;
}

bool validKey(const std::string& k) {
  if (k.empty()) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/')) return false;
  return true;
}

Status badSelector(const std::string& term, const std::string& why) {
  return Status(Code::kInvalidArgument, "unable to parse requirement: \"" + term + "\": " + why);
}

}  // namespace

Result<LabelSelector> LabelSelector::parse(const std::string& text) {
  LabelSelector sel;
  for (const auto& term : splitTerms(text)) {
    if (term.empty()) return badSelector(term, "empty requirement");
    Term t;
    size_t pos;
    if (term[0] == '!') {
      t.key = trim(term.substr(1));
      t.op = Op::kNotExists;
    } else if ((pos = term.find(" notin ")) != std::string::npos || (pos = term.find(" in ")) != std::string::npos) {
      bool notIn = term.compare(pos, 7, " notin ") == 0;
      t.key = trim(term.substr(0, pos));
      t.op = notIn ? Op::kNotIn : Op::kIn;
      std::string rest = trim(term.substr(pos + (notIn ? 7 : 4)));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')')
        return badSelector(term, "expected a parenthesised value list");
      std::string inner = rest.substr(1, rest.size() - 2);
      size_t start = 0;
      while (start <= inner.size()) {
        size_t comma = inner.find(',', start);
        std::string v = trim(inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        t.values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if ((pos = term.find("!=")) != std::string::npos) {
      t.key = trim(term.substr(0, pos));
      t.op = Op::kNotEq;
      t.values = {trim(term.substr(pos + 2))};
    } else if ((pos = term.find("==")) != std::string::npos) {
      t.key = trim(term.substr(0, pos));
      t.op = Op::kEq;
      t.values = {trim(term.substr(pos + 2))};
    } else if ((pos = term.find('=')) != std::string::npos) {
      t.key = trim(term.substr(0, pos));
      t.op = Op::kEq;
      t.values = {trim(term.substr(pos + 1))};
    } else {
      t.key = term;
      t.op = Op::kExists;
    }
    if (!validKey(t.key)) return badSelector(term, "invalid label key \"" + t.key + "\"");
    sel.terms_.push_back(std::move(t));
  }
  return sel;
}

bool LabelSelector::matches(const json& labels) const {
  for (const auto& t : terms_) {
    bool has = labels.is_object() && labels.contains(t.key) && labels[t.key].is_string();
    std::string value = has ? labels[t.key].get<std::string>() : "";
    bool inValues = false;
    for (const auto& v : t.values) inValues = inValues || (has && v == value);
    switch (t.op) {
      case Op::kEq:
        if (!inValues) return false;
        break;
      case Op::kIn:
        if (!inValues) return false;
        break;
      case Op::kNotEq:
        if (inValues) return false;
        break;
      case Op::kNotIn:
        if (inValues) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

Result<FieldSelector> FieldSelector::parse(const std::string& text) {
  FieldSelector sel;
  for (const auto& term : splitTerms(text)) {
    size_t pos = term.find("!=");
    Term t;
    t.equal = pos == std::string::npos;
    if (t.equal) pos = term.find("==");
    size_t opLen = 2;
    if (pos == std::string::npos) {
      pos = term.find('=');
      opLen = 1;
    }
    if (pos == std::string::npos)
      return Status(Code::kInvalidArgument, "invalid selector: '" + term + "'; can't understand '" + term + "'");
    t.field = trim(term.substr(0, pos));
    t.value = trim(term.substr(pos + opLen));
    if (t.field != "metadata.name" && t.field != "metadata.namespace")
      return Status(Code::kInvalidArgument, "field label not supported: " + t.field);
    sel.terms_.push_back(std::move(t));
  }
  return sel;
}

bool FieldSelector::matches(const json& object) const {
  const json meta = object.value("metadata", json::object());
  for (const auto& t : terms_) {
    std::string actual = meta.value(t.field == "metadata.name" ? "name" : "namespace", "");
    if ((actual == t.value) != t.equal) return false;
  }
  return true;
}

}  // namespace spr::sim
