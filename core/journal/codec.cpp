// Record <-> Cap'n Proto, canonical encoding, and the chain hash.
#include "core/journal/codec.h"

#include <openssl/evp.h>

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <memory>

#include "core/journal/bodies.h"
#include "schema/journal.capnp.h"

namespace spr::journal {
namespace {

namespace cs = spr::schema;

// Empty strings are left unset (null pointers), not set to "": canonical bytes then match
// those of a record written before the field existed (see schema/JOURNAL.md, evolution).
#define SPR_PUT_TEXT(builder, Field, value)                  \
  do {                                                       \
    if (!(value).empty()) (builder).set##Field(text(value)); \
  } while (0)
#define SPR_PUT_TEXT_DATA(builder, Field, value)               \
  do {                                                         \
    if (!(value).empty()) (builder).set##Field(asData(value)); \
  } while (0)

// A body field (bodies.h): by digest when the record is in stored form or its schema
// stores this text by digest (the field is by digest from schema `since` on), else inline.
#define SPR_PUT_BODY(builder, Field, value, digest, schema, since) \
  do {                                                             \
    if (!(digest).empty()) {                                       \
      (builder).set##Field##Digest(asData(digest));                \
    } else if (storedByDigest((schema), (value), (since))) {       \
      const std::string computed = bodyDigest(value);              \
      (builder).set##Field##Digest(asData(computed));              \
    } else {                                                       \
      SPR_PUT_TEXT(builder, Field, value);                         \
    }                                                              \
  } while (0)

capnp::Text::Reader text(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }
capnp::Data::Reader asData(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}
std::string str(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }
std::string str(capnp::Data::Reader d) { return std::string(reinterpret_cast<const char*>(d.begin()), d.size()); }

void putObjectId(const ObjectId& o, cs::ObjectId::Builder b) {
  SPR_PUT_TEXT(b, Cluster, o.cluster);
  SPR_PUT_TEXT(b, Group, o.group);
  SPR_PUT_TEXT(b, Version, o.version);
  SPR_PUT_TEXT(b, Kind, o.kind);
  SPR_PUT_TEXT(b, Namespace, o.ns);
  SPR_PUT_TEXT(b, Name, o.name);
  SPR_PUT_TEXT(b, Uid, o.uid);
}

ObjectId getObjectId(cs::ObjectId::Reader r) {
  return ObjectId{str(r.getCluster()),   str(r.getGroup()), str(r.getVersion()), str(r.getKind()),
                  str(r.getNamespace()), str(r.getName()),  str(r.getUid())};
}

template <typename Reader>
std::string canonicalBytes(Reader reader) {
  kj::Array<capnp::word> words = capnp::canonicalize(reader);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

void putTapeEntries(const std::vector<TapeEntry>& entries, capnp::List<cs::TapeEntry>::Builder tape, uint32_t schema);

// Whether `tape` is in stored form: one entry standing for the whole tape (bodies.h).
bool storedTape(const std::vector<TapeEntry>& tape) { return tape.size() == 1 && !tape[0].tapeDigest.empty(); }

std::string tapeBodyBytes(const std::vector<TapeEntry>& entries, uint32_t schema) {
  capnp::MallocMessageBuilder message;
  auto t = message.initRoot<cs::Tape>();
  putTapeEntries(entries, t.initEntries(static_cast<unsigned>(entries.size())), schema);
  return canonicalBytes(t.asReader());
}

void putEffectCompleted(const EffectCompleted& e, cs::EffectCompleted::Builder b, uint32_t schema) {
  b.setEffectId(e.effectId);
  SPR_PUT_TEXT(b, Command, e.command);
  b.setOutcome(static_cast<cs::Outcome>(e.outcome));
  SPR_PUT_TEXT(b, ErrorClass, e.errorClass);
  SPR_PUT_TEXT(b, Message, e.message);
  SPR_PUT_TEXT(b, ResultJson, e.resultJson);
  SPR_PUT_TEXT(b, Reason, e.reason);
  if (e.tape.empty()) return;
  if (storesBodies(schema) && !storedTape(e.tape)) {
    const std::string digest = bodyDigest(tapeBodyBytes(e.tape, schema));
    b.initTape(1)[0].setTapeDigest(asData(digest));
    return;
  }
  putTapeEntries(e.tape, b.initTape(static_cast<unsigned>(e.tape.size())), schema);
}

void putTapeEntries(const std::vector<TapeEntry>& entries, capnp::List<cs::TapeEntry>::Builder tape, uint32_t schema) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const TapeEntry& t = entries[i];
    auto tb = tape[static_cast<unsigned>(i)];
    SPR_PUT_TEXT(tb, Cluster, t.cluster);
    SPR_PUT_TEXT(tb, Method, t.method);
    SPR_PUT_TEXT(tb, Path, t.path);
    SPR_PUT_BODY(tb, RequestBody, t.requestBody, t.requestBodyDigest, schema, kFirstSchemaWithBodies);
    tb.setStatus(t.status);
    SPR_PUT_BODY(tb, ResponseBody, t.responseBody, t.responseBodyDigest, schema, kFirstSchemaWithBodies);
    SPR_PUT_TEXT(tb, Error, t.error);
    SPR_PUT_TEXT_DATA(tb, TapeDigest, t.tapeDigest);
  }
}

TapeEntry getTapeEntry(cs::TapeEntry::Reader t) {
  return TapeEntry{str(t.getCluster()),
                   str(t.getMethod()),
                   str(t.getPath()),
                   str(t.getRequestBody()),
                   t.getStatus(),
                   str(t.getResponseBody()),
                   str(t.getError()),
                   str(t.getRequestBodyDigest()),
                   str(t.getResponseBodyDigest()),
                   str(t.getTapeDigest())};
}

EffectCompleted getEffectCompleted(cs::EffectCompleted::Reader r) {
  EffectCompleted e;
  e.effectId = r.getEffectId();
  e.command = str(r.getCommand());
  e.outcome = static_cast<Outcome>(r.getOutcome());
  e.errorClass = str(r.getErrorClass());
  e.message = str(r.getMessage());
  e.resultJson = str(r.getResultJson());
  e.reason = str(r.getReason());
  for (auto t : r.getTape()) e.tape.push_back(getTapeEntry(t));
  return e;
}

// Fills the payload union; one branch per Payload alternative.
struct PayloadWriter {
  cs::Record::Payload::Builder b;
  uint32_t schema;
  void operator()(const Observed& o) {
    auto p = b.initObserved();
    SPR_PUT_TEXT(p, Cluster, o.cluster);
    p.setType(static_cast<cs::WatchType>(o.type));
    SPR_PUT_BODY(p, ObjectJson, o.objectJson, o.objectJsonDigest, schema, kFirstSchemaWithBodies);
    SPR_PUT_TEXT(p, ResourceVersion, o.resourceVersion);
    p.setGeneration(o.generation);
  }
  void operator()(const TimerFired& t) {
    auto p = b.initTimerFired();
    SPR_PUT_TEXT(p, Timer, t.timer);
    p.setToken(t.token);
    p.setDueUnixNanos(t.dueUnixNanos);
  }
  void operator()(const EffectRequested& e) {
    auto p = b.initEffectRequested();
    p.setEffectId(e.effectId);
    SPR_PUT_TEXT(p, Command, e.command);
    SPR_PUT_BODY(p, InputJson, e.inputJson, e.inputJsonDigest, schema, kFirstSchemaWithInputBodies);
    p.setCauseSeq(e.causeSeq);
  }
  void operator()(const EffectCompleted& e) { putEffectCompleted(e, b.initEffectCompleted(), schema); }
  void operator()(const Transition& t) {
    auto p = b.initTransition();
    SPR_PUT_TEXT(p, From, t.from);
    SPR_PUT_TEXT(p, To, t.to);
    SPR_PUT_TEXT(p, Event, t.event);
    p.setInputSeq(t.inputSeq);
    p.setRejected(t.rejected);
  }
  void operator()(const Snapshot& s) {
    auto p = b.initSnapshot();
    SPR_PUT_TEXT(p, StateJson, s.stateJson);
    p.setThroughSeq(s.throughSeq);
  }
  void operator()(const ProcessStarted& s) {
    auto p = b.initProcessStarted();
    SPR_PUT_TEXT(p, Version, s.version);
    SPR_PUT_TEXT(p, Build, s.build);
    SPR_PUT_TEXT(p, FlagsDigest, s.flagsDigest);
    SPR_PUT_TEXT(p, FlagNames, s.flagNames);
    SPR_PUT_TEXT(p, Hostname, s.hostname);
    p.setPid(s.pid);
  }
};

Result<Payload> getPayload(cs::Record::Payload::Reader p) {
  switch (p.which()) {
    case cs::Record::Payload::OBSERVED: {
      auto o = p.getObserved();
      return Payload(Observed{str(o.getCluster()), static_cast<WatchType>(o.getType()), str(o.getObjectJson()),
                              str(o.getResourceVersion()), o.getGeneration(), str(o.getObjectJsonDigest())});
    }
    case cs::Record::Payload::TIMER_FIRED: {
      auto t = p.getTimerFired();
      return Payload(TimerFired{str(t.getTimer()), t.getToken(), t.getDueUnixNanos()});
    }
    case cs::Record::Payload::EFFECT_REQUESTED: {
      auto e = p.getEffectRequested();
      return Payload(EffectRequested{e.getEffectId(), str(e.getCommand()), str(e.getInputJson()), e.getCauseSeq(),
                                     str(e.getInputJsonDigest())});
    }
    case cs::Record::Payload::EFFECT_COMPLETED: return Payload(getEffectCompleted(p.getEffectCompleted()));
    case cs::Record::Payload::TRANSITION: {
      auto t = p.getTransition();
      return Payload(Transition{str(t.getFrom()), str(t.getTo()), str(t.getEvent()), t.getInputSeq(), t.getRejected()});
    }
    case cs::Record::Payload::SNAPSHOT: {
      auto s = p.getSnapshot();
      return Payload(Snapshot{str(s.getStateJson()), s.getThroughSeq()});
    }
    case cs::Record::Payload::PROCESS_STARTED: {
      auto s = p.getProcessStarted();
      return Payload(ProcessStarted{str(s.getVersion()), str(s.getBuild()), str(s.getFlagsDigest()),
                                    str(s.getFlagNames()), str(s.getHostname()), s.getPid()});
    }
  }
  return Result<Payload>(Code::kCorruption, "unknown payload kind " + std::to_string(static_cast<int>(p.which())));
}

void buildRecord(const Record& record, cs::Record::Builder b, bool withHash) {
  b.setSeq(record.seq);
  b.setSchemaVersion(record.schemaVersion);
  b.setWallUnixNanos(record.wallUnixNanos);
  putObjectId(record.object, b.initObject());
  SPR_PUT_TEXT(b, Tenant, record.tenant);
  SPR_PUT_TEXT_DATA(b, PrevHash, record.prevHash);
  if (withHash) SPR_PUT_TEXT_DATA(b, Hash, record.hash);
  std::visit(PayloadWriter{b.initPayload(), record.schemaVersion}, record.payload);
}

std::string canonical(cs::Record::Reader reader) { return canonicalBytes(reader); }

Result<std::string> sha256(const std::string& a, const std::string& b) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 || EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    return Result<std::string>(Code::kInternal, "SHA-256 failed (OpenSSL EVP)");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

// The chain hash of `record` (its hash field ignored). Builds the message once; with
// `sealed`, also returns the canonical bytes with that hash set.
Result<std::string> hashRecord(const Record& record, std::string* sealed) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<cs::Record>();
  buildRecord(record, b, false);
  auto hash = sha256(record.prevHash, canonical(b.asReader()));
  if (!hash || sealed == nullptr) return hash;
  SPR_PUT_TEXT_DATA(b, Hash, *hash);
  *sealed = canonical(b.asReader());
  return hash;
}

Result<Record> decodeAligned(kj::ArrayPtr<const capnp::word> words) {
  kj::ArrayPtr<const capnp::word> segments[1] = {words};
  capnp::ReaderOptions options;
  // A well-formed record is read about once; a bound proportional to its size stops a
  // damaged one (overlapping pointers, lists of empty structs) from making the reader
  // allocate gigabytes. Found by tests/fuzz (journal_record).
  options.traversalLimitInWords = 8 * words.size() + 1024;
  capnp::SegmentArrayMessageReader message(kj::arrayPtr(segments, 1), options);
  if (message.getRoot<capnp::AnyPointer>().isNull()) {
    return Result<Record>(Code::kCorruption, "empty record (null root pointer)");
  }
  auto r = message.getRoot<cs::Record>();
  Record rec;
  rec.seq = r.getSeq();
  rec.schemaVersion = r.getSchemaVersion();
  if (rec.schemaVersion > kSchemaVersion) {
    return Result<Record>(Code::kVersionMismatch,
                          "record " + std::to_string(rec.seq) + " was written by schema version " +
                              std::to_string(rec.schemaVersion) + "; this build reads up to version " +
                              std::to_string(kSchemaVersion) + "; upgrade spr");
  }
  rec.wallUnixNanos = r.getWallUnixNanos();
  rec.object = getObjectId(r.getObject());
  rec.tenant = str(r.getTenant());
  rec.prevHash = str(r.getPrevHash());
  rec.hash = str(r.getHash());
  auto payload = getPayload(r.getPayload());
  if (!payload) return payload.status();
  rec.payload = std::move(payload).value();
  return rec;
}

}  // namespace

Result<std::string> encodeRecord(const Record& record) {
  try {
    capnp::MallocMessageBuilder message;
    auto b = message.initRoot<cs::Record>();
    buildRecord(record, b, true);
    return canonical(b.asReader());
  } catch (const kj::Exception& e) {
    return Result<std::string>(Code::kInternal, "encoding record: " + std::string(e.getDescription().cStr()));
  } catch (const std::exception& e) {
    return Result<std::string>(Code::kInternal, std::string("encoding record: ") + e.what());
  }
}

Result<Record> decodeRecord(const std::string& bytes) { return decodeRecord(bytes.data(), bytes.size()); }

Result<Record> decodeRecord(const char* data, size_t size) {
  if (size == 0 || size % sizeof(capnp::word) != 0) {
    return Result<Record>(Code::kCorruption, "record bytes have length " + std::to_string(size) +
                                                 ", not a positive multiple of 8 (truncated or garbage)");
  }
  // RocksDB values are not word-aligned; Cap'n Proto readers need alignment.
  auto words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  std::memcpy(words.begin(), data, size);
  try {
    return decodeAligned(words.asPtr());
  } catch (const kj::Exception& e) {
    return Result<Record>(Code::kCorruption, "undecodable record: " + std::string(e.getDescription().cStr()));
  } catch (const std::exception& e) {
    return Result<Record>(Code::kCorruption, std::string("undecodable record: ") + e.what());
  }
}

Result<std::string> computeHash(const Record& record) {
  try {
    return hashRecord(record, nullptr);
  } catch (const kj::Exception& e) {
    return Result<std::string>(Code::kInternal, "hashing record: " + std::string(e.getDescription().cStr()));
  } catch (const std::exception& e) {
    return Result<std::string>(Code::kInternal, std::string("hashing record: ") + e.what());
  }
}

Result<std::string> sealRecord(Record& record) {
  try {
    std::string bytes;
    auto hash = hashRecord(record, &bytes);
    if (!hash) return hash.status();
    record.hash = std::move(hash).value();
    return bytes;
  } catch (const kj::Exception& e) {
    return Result<std::string>(Code::kInternal, "sealing record: " + std::string(e.getDescription().cStr()));
  } catch (const std::exception& e) {
    return Result<std::string>(Code::kInternal, std::string("sealing record: ") + e.what());
  }
}

}  // namespace spr::journal

namespace spr::journal {

Result<std::string> encodeTapeBody(const std::vector<TapeEntry>& tape, uint32_t schemaVersion) {
  try {
    return tapeBodyBytes(tape, schemaVersion);
  } catch (const kj::Exception& e) {
    return Result<std::string>(Code::kInternal, "encoding a tape: " + std::string(e.getDescription().cStr()));
  } catch (const std::exception& e) {
    return Result<std::string>(Code::kInternal, std::string("encoding a tape: ") + e.what());
  }
}

Result<std::vector<TapeEntry>> decodeTapeBody(const std::string& bytes) {
  using R = Result<std::vector<TapeEntry>>;
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return R(Code::kCorruption, "tape body has length " + std::to_string(bytes.size()) + ", not a multiple of 8");
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    kj::ArrayPtr<const capnp::word> segments[1] = {words.asPtr()};
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 1ull << 30;
    capnp::SegmentArrayMessageReader message(kj::arrayPtr(segments, 1), options);
    std::vector<TapeEntry> out;
    for (auto t : message.getRoot<cs::Tape>().getEntries()) out.push_back(getTapeEntry(t));
    return out;
  } catch (const kj::Exception& e) {
    return R(Code::kCorruption, "undecodable tape body: " + std::string(e.getDescription().cStr()));
  }
}

}  // namespace spr::journal
