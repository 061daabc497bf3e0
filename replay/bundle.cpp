#include "replay/bundle.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/journal/codec.h"
#include "replay/line_stream.h"
#include "replay/record_json.h"

namespace spr::replay {

using nlohmann::json;

namespace {

Status syncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Status(Code::kIoError, "cannot reopen " + path + " to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status() : Status(Code::kIoError, "fsync of " + path + " failed");
}

Status bad(const std::string& path, size_t line, const std::string& what) {
  return Status(Code::kInvalidArgument,
                "bundle " + path + (line ? " line " + std::to_string(line) : std::string()) + ": " + what);
}

// Adds the ProviderConfig records that the Transitions among `records` folded.
Status addConfigInputs(const journal::Journal& j, std::vector<journal::Record>* records) {
  std::set<uint64_t> have, wanted;
  for (const auto& r : *records) {
    have.insert(r.seq);
    if (const auto* t = std::get_if<journal::Transition>(&r.payload))
      if (t->inputSeq != 0) wanted.insert(t->inputSeq);
  }
  for (uint64_t seq : wanted) {
    if (have.count(seq)) continue;
    auto r = j.readRange(seq, seq, 1);
    if (!r) return r.status();
    if (r->empty() || r->front().seq != seq) continue;  // dropped: the snapshot carries it
    if (r->front().object.cluster != "platform") continue;
    records->push_back(r->front());
  }
  std::sort(records->begin(), records->end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  return Status();
}

json baseHeader(const std::string& kind, const journal::Journal& j) {
  return {{"format", kBundleFormat},
          {"version", kBundleVersion},
          {"kind", kind},
          {"schemaVersion", journal::kSchemaVersion},
          {"journalHead", j.chainHeadHex()}};
}

}  // namespace

Status writeBundle(const std::string& path, json header, const std::vector<journal::Record>& records) {
  header["records"] = records.size();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status(Code::kIoError, "cannot write " + tmp);
    out << dumpLine(header) << '\n';
    for (const auto& r : records) out << dumpLine(recordToJson(r)) << '\n';
    out.flush();
    if (!out) return Status(Code::kIoError, "writing " + tmp + " failed");
  }
  SPR_RETURN_IF_ERROR(syncFile(tmp));
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status(Code::kIoError, "cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status();
}

Result<Bundle> readBundle(const std::string& path) {
  LineReader in;  // plain (bundles, older archives) or zstd-compressed (archives)
  if (!in.open(path).isOk()) return bad(path, 0, "cannot be opened (missing or unreadable)");
  Bundle b;
  std::string line;
  if (!in.next(&line))
    return bad(path, 0, in.status().isOk() ? "is empty; expected a header line" : in.status().message());
  b.header = json::parse(line, nullptr, false);
  auto text = [&](const char* key) {  // a header string field; "" when absent or not a string
    auto it = b.header.find(key);
    return it != b.header.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!b.header.is_object() || text("format") != kBundleFormat)
    return bad(path, 1,
               std::string("not an spr replay bundle (the first line must be a JSON header with format \"") +
                   kBundleFormat + "\")");
  if (b.header.contains("version") && !b.header["version"].is_number_integer())
    return bad(path, 1, "the header's \"version\" must be an integer");
  const int64_t version = b.header.value("version", int64_t{1});
  if (version > kBundleVersion)
    return bad(
        path, 1,
        "bundle version " + std::to_string(version) + " is newer than this build's " + std::to_string(kBundleVersion));
  size_t n = 2;
  for (; in.next(&line); ++n) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) return bad(path, n, "not valid JSON");
    auto r = recordFromJson(j);
    if (!r) return bad(path, n, r.status().message());
    auto hash = journal::computeHash(*r);
    if (!hash) return bad(path, n, hash.status().message());
    if (*hash != r->hash)
      return bad(path, n, "record seq " + std::to_string(r->seq) + ": hash mismatch (content edited)");
    if (!b.records.empty() && r->seq <= b.records.back().seq)
      return bad(path, n,
                 "records out of order (seq " + std::to_string(r->seq) + " after " +
                     std::to_string(b.records.back().seq) + ")");
    if (text("kind") == "archive" && !b.records.empty() &&
        (r->seq != b.records.back().seq + 1 || r->prevHash != b.records.back().hash))
      return bad(path, n, "archive chain broken at seq " + std::to_string(r->seq));
    b.records.push_back(std::move(*r));
  }
  if (!in.status().isOk()) return bad(path, n, in.status().message());
  if (b.header.contains("records") && b.header["records"].is_number() &&
      b.header["records"].get<size_t>() != b.records.size())
    return bad(path, 0,
               "truncated: the header says " + std::to_string(b.header["records"].get<size_t>()) +
                   " records, the file has " + std::to_string(b.records.size()));
  if (text("kind") == "archive" && !b.records.empty() && journal::toHex(b.records.back().hash) != text("headHash"))
    return bad(path, 0, "the last record's hash is not the header's headHash");
  // An archive of a journal compacted before carries the snapshots it starts from.
  json preload = b.header.value("preload", json::array());
  for (const auto& p : preload) {
    auto r = recordFromJson(p);
    if (!r) return bad(path, 1, "preload: " + r.status().message());
    auto hash = journal::computeHash(*r);
    if (!hash || *hash != r->hash)
      return bad(path, 1, "preload record seq " + std::to_string(r->seq) + ": hash mismatch");
    b.records.push_back(std::move(*r));
  }
  return b;
}

Result<Bundle> exportObject(const journal::Journal& j, const std::string& objectKey) {
  auto records = j.readObject(objectKey, journal::Order::kOldestFirst, SIZE_MAX);
  if (!records) return records.status();
  if (records->empty()) return Status(Code::kNotFound, "no records for " + objectKey);
  Bundle b;
  b.records = std::move(*records);
  SPR_RETURN_IF_ERROR(addConfigInputs(j, &b.records));
  b.header = baseHeader("object", j);
  b.header["object"] = objectKey;
  b.header["tenant"] = b.records.back().tenant;
  return b;
}

Result<Bundle> exportTenant(const journal::Journal& j, const std::string& tenant) {
  auto records = j.readTenant(tenant, journal::Order::kOldestFirst, SIZE_MAX);
  if (!records) return records.status();
  Bundle b;
  for (auto& r : *records)
    if (r.tenant == tenant) b.records.push_back(std::move(r));  // belt and braces over the index
  SPR_RETURN_IF_ERROR(addConfigInputs(j, &b.records));
  b.header = baseHeader("tenant", j);
  b.header["tenant"] = tenant;
  return b;
}

}  // namespace spr::replay
