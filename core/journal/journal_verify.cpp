// Journal::verify(): walks the hash chain in sequence order and reports the first bad
// record (missing, reordered, edited, undecodable, truncated at the end), then checks
// that the stored bytes are the canonical encoding, that every body a record refers to
// exists and hashes to its digest, and that the object and tenant indexes hold exactly
// the entries the records imply.
#include <openssl/evp.h>
#include <rocksdb/iterator.h>
#include <rocksdb/snapshot.h>

#include <cstring>
#include <map>
#include <vector>

#include "core/journal/bodies.h"
#include "core/journal/codec.h"
#include "core/journal/journal.h"
#include "core/journal/journal_impl.h"

namespace spr::journal {
namespace {

// An order-independent digest of a multiset of index entries (sum of truncated
// SHA-256 of tag||key), so the records' expected entries and the stored ones can be
// compared in one sequential pass over each.
struct IndexDigest {
  uint64_t lanes[2] = {0, 0};
  uint64_t count = 0;
  void add(char tag, const rocksdb::Slice& key) {
    std::string input(1, tag);
    input.append(key.data(), key.size());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr);
    uint64_t v[2];
    std::memcpy(v, md, sizeof v);
    lanes[0] += v[0];
    lanes[1] += v[1];
    ++count;
  }
  bool operator==(const IndexDigest& o) const {
    return lanes[0] == o.lanes[0] && lanes[1] == o.lanes[1] && count == o.count;
  }
};

// Bodies seen by the walk: each checked once; the records using a bad one are collected.
struct BodyCheck {
  const Journal::Impl* im = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
  std::map<std::string, std::string> problem;                  // digest -> "" (good) or what is wrong
  std::map<std::string, std::vector<uint64_t>> badUsers;       // digest -> records using it
  std::map<std::string, std::vector<std::string>> tapeBodies;  // good tape digest -> the digests in it

  void check(const BodyRef& ref, uint64_t seq) {
    auto found = problem.find(ref.digest);
    if (found == problem.end()) found = problem.emplace(ref.digest, examine(ref)).first;
    if (!found->second.empty()) {
      auto& users = badUsers[ref.digest];
      if (users.empty() || users.back() != seq) users.push_back(seq);
      return;
    }
    auto nested = tapeBodies.find(ref.digest);
    if (nested == tapeBodies.end()) return;
    for (const std::string& d : nested->second) check(BodyRef{d, false}, seq);
  }
  // "" when the body is there and hashes to its digest (a tape's digests are remembered).
  std::string examine(const BodyRef& ref) {
    if (im->bodies == nullptr) return "is missing (the journal has no bodies column family)";
    auto body = im->get(im->bodies, ref.digest, snapshot);
    if (!body) return "cannot be read (" + body.status().message() + ")";
    if (!body->has_value()) return "is missing from the bodies column family (deleted)";
    if (bodyDigest(**body) != ref.digest) return "does not hash to its digest (altered)";
    if (!ref.tape) return "";
    auto nested = digestsInTape(**body);
    if (!nested) return "is not a readable tape (" + nested.status().message() + ")";
    tapeBodies[ref.digest] = std::move(nested).value();
    return "";
  }
  // The first bad body by first use: (first record using it, reason naming the users).
  std::pair<uint64_t, std::string> firstProblem() const {
    uint64_t first = UINT64_MAX;
    std::string reason;
    for (const auto& [digest, users] : badUsers) {
      if (users.front() >= first) continue;
      first = users.front();
      std::string list;
      for (size_t i = 0; i < users.size() && i < 10; ++i) list += (i ? ", " : "") + std::to_string(users[i]);
      if (users.size() > 10) list += ", ...";
      reason = "record " + std::to_string(first) + ": body sha256:" + toHex(digest) + " " + problem.at(digest) +
               "; used by " + std::to_string(users.size()) + " record(s): " + list;
    }
    return {first, reason};
  }
};

// The walk's state: what the next record must look like.
struct ChainWalk {
  uint64_t expectedSeq;
  std::string prevHash;
  VerifyReport report;
  IndexDigest expectedIndex;
  BodyCheck bodies;

  bool fail(uint64_t seq, std::string reason) {
    report.ok = false;
    report.firstBadSeq = seq;
    report.reason = std::move(reason);
    return false;
  }

  // Checks one log entry; returns false (with report filled) at the first bad one.
  bool check(const rocksdb::Slice& key, const rocksdb::Slice& value) {
    const std::string e = std::to_string(expectedSeq);
    if (key.size() != 8)
      return fail(expectedSeq, "record " + e + ": malformed log key (" + std::to_string(key.size()) + " bytes)");
    uint64_t seq = fromBe64(key);
    const std::string s = std::to_string(seq);
    if (seq != expectedSeq) {
      return fail(expectedSeq,
                  "record " + e + " is missing (sequence gap " + std::to_string(expectedSeq - 1) + " → " + s + ")");
    }
    auto rec = decodeRecord(value.data(), value.size());
    if (!rec) return fail(seq, "record " + s + ": " + rec.status().message());
    if (rec->seq != seq) {
      return fail(seq, "record " + s + ": the value stored at sequence " + s + " is record " +
                           std::to_string(rec->seq) + " (records reordered)");
    }
    if (rec->prevHash != prevHash) {
      return fail(seq, "record " + s + ": previous-hash link broken (record " + std::to_string(seq - 1) +
                           " was rewritten, or records were reordered)");
    }
    Record resealed = *rec;
    auto canonicalBytes = sealRecord(resealed);
    if (!canonicalBytes) return fail(seq, "record " + s + ": " + canonicalBytes.status().message());
    if (resealed.hash != rec->hash) return fail(seq, "record " + s + ": hash mismatch (content edited)");
    if (value.compare(*canonicalBytes) != 0) {
      return fail(seq, "record " + s +
                           ": stored bytes are not the canonical encoding of the record "
                           "(bytes altered outside its hashed content)");
    }
    for (const BodyRef& ref : referencedBodies(*rec)) bodies.check(ref, seq);
    if (indexedByObject(*rec)) expectedIndex.add('o', indexKey(rec->object.key(), seq));
    if (indexedByTenant(*rec)) expectedIndex.add('t', indexKey(rec->tenant, seq));
    prevHash = rec->hash;
    report.headHash = toHex(prevHash);
    ++report.recordsChecked;
    ++expectedSeq;
    return true;
  }
};

Status digestIndex(const Journal::Impl& im, const rocksdb::ReadOptions& ro, rocksdb::ColumnFamilyHandle* cf, char tag,
                   IndexDigest* d) {
  std::unique_ptr<rocksdb::Iterator> it(im.db->NewIterator(ro, cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) d->add(tag, it->key());
  if (!it->status().ok()) return Status(Code::kIoError, "reading an index: " + it->status().ToString());
  return Status::ok();
}

// The digests differ: find the first record whose index entry is missing, or else an
// index entry that matches no record.
void locateIndexDamage(const Journal::Impl& im, const rocksdb::ReadOptions& ro, uint64_t firstSeq, uint64_t lastSeq,
                       ChainWalk& walk) {
  auto present = [&](rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    auto r = im.get(cf, key, ro.snapshot);
    return r.isOk() && r->has_value();
  };
  for (uint64_t seq = firstSeq; seq <= lastSeq; ++seq) {
    auto rec = im.readSeq(seq, ro.snapshot);
    if (!rec) return (void)walk.fail(seq, rec.status().message());
    if (indexedByObject(*rec) && !present(im.byObject, indexKey(rec->object.key(), seq))) {
      return (void)walk.fail(seq,
                             "record " + std::to_string(seq) + " is missing from the object index (entry deleted)");
    }
    if (indexedByTenant(*rec) && !present(im.byTenant, indexKey(rec->tenant, seq))) {
      return (void)walk.fail(seq,
                             "record " + std::to_string(seq) + " is missing from the tenant index (entry deleted)");
    }
  }
  for (auto [cf, name] : {std::pair{im.byObject, "object"}, std::pair{im.byTenant, "tenant"}}) {
    std::unique_ptr<rocksdb::Iterator> it(im.db->NewIterator(ro, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key();
      uint64_t seq = k.size() >= 9 ? fromBe64(rocksdb::Slice(k.data() + k.size() - 8, 8)) : 0;
      auto rec = im.readSeq(seq, ro.snapshot);
      std::string id = rec ? (cf == im.byObject ? rec->object.key() : rec->tenant) : "";
      if (!rec || k.size() < 9 || indexKey(id, seq) != k.ToString()) {
        return (void)walk.fail(seq, std::string("the ") + name + " index has an entry for record " +
                                        std::to_string(seq) + " that does not match it (index entry added or altered)");
      }
    }
  }
  walk.fail(0, "the object/tenant indexes do not match the records");
}

// Compares the indexes with the entries the records imply; names the damage if any.
void checkIndexes(const Journal::Impl& im, const rocksdb::ReadOptions& ro, uint64_t firstSeq, uint64_t lastSeq,
                  ChainWalk& walk) {
  IndexDigest stored;
  Status s = digestIndex(im, ro, im.byObject, 'o', &stored);
  if (s.isOk()) s = digestIndex(im, ro, im.byTenant, 't', &stored);
  if (!s.isOk()) {
    walk.fail(0, s.message());
  } else if (!(stored == walk.expectedIndex)) {
    locateIndexDamage(im, ro, firstSeq, lastSeq, walk);
  }
}

}  // namespace

VerifyReport Journal::verify() const {
  const Impl& im = *impl_;
  ChainWalk walk{0, "", VerifyReport{}, IndexDigest{}, BodyCheck{}};
  std::unique_ptr<rocksdb::ManagedSnapshot> snapshot;
  {
    // One consistent view: no append or dropBefore is half-seen.
    std::lock_guard<std::mutex> lock(im.mu);
    snapshot = std::make_unique<rocksdb::ManagedSnapshot>(im.db.get());
    walk.expectedSeq = im.firstSeq;
    walk.prevHash = im.firstPrevHash;
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot->snapshot();
  walk.bodies.im = &im;
  walk.bodies.snapshot = ro.snapshot;
  const uint64_t firstSeq = walk.expectedSeq;
  walk.report.ok = true;
  walk.report.headHash = toHex(walk.prevHash);
  auto last = im.get(im.meta, kMetaLastSeq, ro.snapshot);
  auto head = im.get(im.meta, kMetaHead, ro.snapshot);
  if (!last || !head || !last->has_value() || !head->has_value() || (*last)->size() != 8) {
    walk.fail(0, "the journal's metadata has no valid chain head (sys/last_seq, sys/head)");
    return walk.report;
  }
  const uint64_t lastSeq = fromBe64(**last);
  std::unique_ptr<rocksdb::Iterator> it(im.db->NewIterator(ro, im.log));
  for (it->Seek(be64(firstSeq)); it->Valid() && it->key().compare(be64(lastSeq)) <= 0; it->Next()) {
    if (!walk.check(it->key(), it->value())) return walk.report;
  }
  if (!it->status().ok()) {
    walk.fail(walk.expectedSeq, "reading the log: " + it->status().ToString());
  } else if (walk.expectedSeq <= lastSeq) {
    walk.fail(walk.expectedSeq, "record " + std::to_string(walk.expectedSeq) +
                                    " is missing (the chain head says the last record is " + std::to_string(lastSeq) +
                                    "; journal truncated)");
  } else if (walk.prevHash != **head) {
    walk.fail(lastSeq, "record " + std::to_string(lastSeq) +
                           ": hash differs from the stored chain head "
                           "(last record rewritten)");
  } else if (!walk.bodies.badUsers.empty()) {
    auto [seq, reason] = walk.bodies.firstProblem();
    walk.fail(seq, reason);
  } else {
    checkIndexes(im, ro, firstSeq, lastSeq, walk);
  }
  return walk.report;
}

}  // namespace spr::journal
