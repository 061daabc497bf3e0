#include "replay/filters.h"

#include <algorithm>
#include <set>

namespace spr::replay {

std::string listSome(const std::vector<std::string>& names, size_t max) {
  if (names.empty()) return "none";
  std::string out;
  for (size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

namespace {

Status noTenant(const std::string& tenant, const std::string& source, const std::vector<std::string>& tenants) {
  return Status(Code::kNotFound,
                "--tenant '" + tenant + "' matches nothing in " + source + " (its tenants: " + listSome(tenants) + ")");
}

}  // namespace

Status requireTenant(const journal::Journal& j, const std::string& tenant, const std::string& source) {
  auto known = j.hasTenant(tenant);
  if (!known) return known.status();
  if (*known) return Status();
  auto tenants = j.tenants();  // for the message only
  if (!tenants) return tenants.status();
  return noTenant(tenant, source, *tenants);
}

Status requireTenant(const std::vector<journal::Record>& records, const std::string& tenant,
                     const std::string& source) {
  std::set<std::string> tenants;
  for (const auto& r : records)
    if (!r.tenant.empty()) tenants.insert(r.tenant);
  if (tenants.count(tenant)) return Status();
  return noTenant(tenant, source, {tenants.begin(), tenants.end()});
}

Status requireObjectOfTenant(const std::vector<journal::Record>& objectRecords, const std::string& nsName,
                             const std::string& tenant) {
  for (const auto& r : objectRecords)
    if (!r.tenant.empty() && r.tenant != tenant)
      return Status(Code::kNotFound,
                    "--object " + nsName + " belongs to tenant '" + r.tenant + "', not --tenant '" + tenant + "'");
  return Status();
}

Status requireObjectOfTenant(const journal::Journal& j, const std::string& objectKey, const std::string& nsName,
                             const std::string& tenant) {
  auto latest = j.readObject(objectKey, journal::Order::kNewestFirst, 1);
  if (!latest) return latest.status();
  return requireObjectOfTenant(*latest, nsName, tenant);
}

std::vector<journal::Record> recordsOfTenant(std::vector<journal::Record> records, const std::string& tenant) {
  records.erase(
      std::remove_if(records.begin(), records.end(),
                     [&](const journal::Record& r) { return r.tenant != tenant && r.object.cluster != "platform"; }),
      records.end());
  return records;
}

}  // namespace spr::replay
