// Command-line filters (--tenant, --object) checked against what a journal or bundle
// holds, so that replay, audit and export fail with one line naming the filter and what
// exists instead of passing a check that checked nothing. Functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/journal.h"

namespace spr::replay {

// "a, b, c" or "a, b, ... (12 in all)"; "none" when empty.
std::string listSome(const std::vector<std::string>& names, size_t max = 8);

// kNotFound "--tenant 'T' matches nothing in <source> (its tenants: ...)" unless `tenant`
// has records in the journal (tenant index) / among `records`.
[[nodiscard]] Status requireTenant(const journal::Journal& journal, const std::string& tenant,
                                   const std::string& source);
[[nodiscard]] Status requireTenant(const std::vector<journal::Record>& records, const std::string& tenant,
                                   const std::string& source);

// kNotFound "--object NS/NAME belongs to tenant 'U', not --tenant 'T'" unless the object
// (its records, any order) is the tenant's.
[[nodiscard]] Status requireObjectOfTenant(const std::vector<journal::Record>& objectRecords, const std::string& nsName,
                                           const std::string& tenant);
// The same through the object index of a journal (the object's latest record).
[[nodiscard]] Status requireObjectOfTenant(const journal::Journal& journal, const std::string& objectKey,
                                           const std::string& nsName, const std::string& tenant);

// The records of `tenant` plus the ProviderConfig records (which carry no tenant).
std::vector<journal::Record> recordsOfTenant(std::vector<journal::Record> records, const std::string& tenant);

}  // namespace spr::replay
