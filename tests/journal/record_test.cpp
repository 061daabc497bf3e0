// Records survive encode/decode unchanged, hashes cover every field, and garbage or
// newer-schema bytes are refused with a clear status.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include <map>
#include <optional>

#include "core/journal/bodies.h"
#include "core/journal/codec.h"
#include "core/journal/record.h"
#include "schema/journal.capnp.h"
#include "test_util.h"

namespace spr::journal {
namespace {

Record envelope(Payload payload) {
  Record r;
  r.seq = 42;
  r.wallUnixNanos = -5;  // before 1970: signed fields must survive
  r.object = ObjectId{"mcp-1", "", "v1", "Secret", "", "cluster-scoped-thing", "u-1"};
  r.tenant = "acme";
  r.prevHash = std::string(32, '\x7f');
  r.hash = std::string("\x00\x01\xff", 3) + std::string(29, 'h');
  r.payload = std::move(payload);
  return r;
}

std::vector<Record> everyKind() {
  EffectCompleted done{7,  "Create", Outcome::kUserError, "Invalid", "spec.version: \"9\" is not allowed", R"({"x":1})",
                       {}, ""};
  done.tape.push_back(TapeEntry{"mcp-1", "POST", "/apis/x/v1/things", "{\"a\":\"ü\"}", 422, "{}", ""});
  done.tape.push_back(TapeEntry{"mcp-1", "GET", "/api/v1/ns", "", 0, "", "connection refused"});
  done.reason = "VersionNotAllowed";
  Transition rejected{"Ready", "Ready", "rejected: stale", 42, true};
  return {
      envelope(Observed{"onboarding", WatchType::kBookmark, std::string("{\"a\":\"\0b\"}", 10), "991", -1}),
      envelope(TimerFired{"poll", 18446744073709551615ull, 1700000000123456789}),
      envelope(EffectRequested{3, "Observe", R"({"spec":{}})", 41}),
      envelope(done),
      envelope(Transition{"Observing", "Creating", "ObservedAbsent", 40, false}),
      envelope(Snapshot{R"({"state":"Ready"})", 39}),
      envelope(EffectCompleted{}),
      envelope(rejected),
      envelope(
          ProcessStarted{"0.1.0", "gcc 12, release", std::string(64, 'a'), "provider-name,journal", "pod-1", 4242}),
  };
}

// Decodes `bytes` (the stored form: bodies by digest) and reads the bodies of `whole`
// back in, as the journal does; the stored form itself must round-trip exactly.
Record readBack(const std::string& bytes, const Record& whole) {
  Record stored = whole;
  std::map<std::string, std::string> bodies;
  toStoredForm(stored, &bodies);
  Record back = decodeRecord(bytes).value();
  EXPECT_TRUE(back == stored) << payloadKind(whole.payload) << ": the stored form did not round-trip";
  Status s = hydrate(back, [&](const std::string& digest) -> Result<std::optional<std::string>> {
    auto it = bodies.find(digest);
    return it == bodies.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  });
  EXPECT_TRUE(s.isOk()) << s.toString();
  return back;
}

TEST(RecordCodec, EveryPayloadKindRoundTrips) {
  for (const Record& r : everyKind()) {
    auto bytes = encodeRecord(r);
    ASSERT_TRUE(bytes.isOk()) << bytes.status().toString();
    EXPECT_EQ(bytes->size() % 8, 0u);
    auto back = decodeRecord(*bytes);
    ASSERT_TRUE(back.isOk()) << payloadKind(r.payload) << ": " << back.status().toString();
    EXPECT_TRUE(readBack(*bytes, r) == r) << payloadKind(r.payload);
    EXPECT_STREQ(payloadKind(back->payload), payloadKind(r.payload));
  }
}

TEST(RecordCodec, PayloadKindNames) {
  std::vector<std::string> names;
  for (const Record& r : everyKind()) names.push_back(payloadKind(r.payload));
  EXPECT_EQ(names,
            (std::vector<std::string>{"Observed", "TimerFired", "EffectRequested", "EffectCompleted", "Transition",
                                      "Snapshot", "EffectCompleted", "Transition", "ProcessStarted"}));
}

TEST(RecordCodec, EncodingIsDeterministic) {
  Record r = everyKind()[3];
  EXPECT_EQ(encodeRecord(r).value(), encodeRecord(r).value());
}

TEST(RecordCodec, HashCoversEveryFieldButTheHashItself) {
  Record base = everyKind()[3];
  const std::string h = computeHash(base).value();
  EXPECT_EQ(h.size(), 32u);
  Record sameButHash = base;
  sameButHash.hash = "different";
  EXPECT_EQ(computeHash(sameButHash).value(), h);
  std::vector<Record> edits(8, base);
  edits[0].seq++;
  edits[1].wallUnixNanos++;
  edits[2].object.name += "x";
  edits[3].tenant = "acme-2";
  edits[4].prevHash[0] ^= 1;
  std::get<EffectCompleted>(edits[5].payload).tape[0].status = 201;
  std::get<EffectCompleted>(edits[6].payload).message.clear();
  edits[7].object.uid.clear();
  for (size_t i = 0; i < edits.size(); ++i) EXPECT_NE(computeHash(edits[i]).value(), h) << "edit " << i;
}

TEST(RecordCodec, SealSetsTheHashAndEncodesWithIt) {
  Record r = everyKind()[3];
  r.hash.clear();
  const std::string bytes = sealRecord(r).value();
  EXPECT_EQ(r.hash, computeHash(r).value());
  EXPECT_EQ(bytes, encodeRecord(r).value());
  EXPECT_TRUE(readBack(bytes, r) == r);
}

TEST(RecordCodec, GarbageIsCorruptionNotACrash) {
  for (const std::string& bad :
       {std::string(), std::string("abc"), std::string(64, '\xff'), std::string(16, '\0') + std::string(8, '\x41')}) {
    auto r = decodeRecord(bad);
    EXPECT_FALSE(r.isOk());
    if (!r.isOk()) {
      EXPECT_TRUE(r.status().code() == Code::kCorruption) << r.status().toString();
    }
  }
  std::string good = encodeRecord(everyKind()[3]).value();
  auto truncated = decodeRecord(good.substr(0, good.size() / 2 / 8 * 8));
  EXPECT_EQ(truncated.status().code(), Code::kCorruption);
}

TEST(RecordCodec, NewerSchemaVersionIsRefusedNamingBothVersions) {
  Record r = everyKind()[0];
  r.schemaVersion = kSchemaVersion + 1;
  auto back = decodeRecord(encodeRecord(r).value());
  ASSERT_FALSE(back.isOk());
  EXPECT_EQ(back.status().code(), Code::kVersionMismatch);
  EXPECT_NE(back.status().message().find("version " + std::to_string(kSchemaVersion + 1)), std::string::npos);
  EXPECT_NE(back.status().message().find("up to version " + std::to_string(kSchemaVersion)), std::string::npos);
}

TEST(RecordCodec, ObjectKeyIsStableAndOmitsVersionAndUid) {
  ObjectId a{"onboarding", "crossplane.services.open-control-plane.io", "v1alpha1", "Crossplane", "proj-a", "mcp",
             "u1"};
  EXPECT_EQ(a.key(), "onboarding/crossplane.services.open-control-plane.io/Crossplane/proj-a/mcp");
  ObjectId b = a;
  b.version = "v1";
  b.uid = "u2";
  EXPECT_EQ(a.key(), b.key());
  ObjectId cfg{"platform", "crossplane.services.open-control-plane.io", "v1alpha1", "ProviderConfig", "", "crossplane",
               ""};
  EXPECT_EQ(cfg.key(), "platform/crossplane.services.open-control-plane.io/ProviderConfig//crossplane");
}

// Evolution: a record whose fields are at their defaults encodes exactly like a message
// where those fields were never set, i.e. like a record written before they existed.
TEST(RecordCodec, DefaultFieldsEncodeLikeAbsentFields) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<spr::schema::Record>();
  b.setSeq(5);
  b.setSchemaVersion(kSchemaVersion);
  b.initObject();
  b.initPayload().initObserved();
  kj::Array<capnp::word> words = capnp::canonicalize(b.asReader());
  std::string expected(reinterpret_cast<const char*>(words.asBytes().begin()), words.asBytes().size());
  Record r;
  r.seq = 5;
  r.payload = Observed{};
  EXPECT_EQ(encodeRecord(r).value(), expected);
}

TEST(RecordCodec, HexIsLowerCase) { EXPECT_EQ(toHex(std::string("\x00\xab\x10", 3)), "00ab10"); }

}  // namespace
}  // namespace spr::journal

// Found by the journal_record fuzzer: a 13 KB damaged record whose pointers describe
// millions of empty list elements made decodeRecord take seconds and ~1.5 GB. The reader's
// traversal limit is now proportional to the record's size, so it is plain corruption.
namespace spr::journal {
namespace {

TEST(RecordCodec, DamagedRecordCannotMakeTheReaderAllocateWithoutBound) {
  const std::string bytes = spr::journal::testing::slurp(
      std::string(SPR_SOURCE_DIR) + "/tests/fuzz/regressions/journal_record/list-of-empty-structs-amplification");
  ASSERT_EQ(bytes.size(), 13664u);
  Result<Record> decoded = decodeRecord(bytes);
  ASSERT_FALSE(decoded.isOk());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption) << decoded.status().toString();
}

}  // namespace
}  // namespace spr::journal
