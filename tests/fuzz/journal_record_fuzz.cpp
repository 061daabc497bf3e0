// Fuzz target: journal record decoding (core/journal/codec). Any bytes must decode to a
// Record or fail with a Status, never crash; a record that decodes must re-encode
// canonically (encode(decode(encode(r))) == encode(r)) and hash, as verify relies on.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/journal/codec.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spr::journal;
  using spr::Result;
  Result<Record> record = decodeRecord(reinterpret_cast<const char*>(data), size);
  if (!record.isOk()) return 0;
  Result<std::string> bytes = encodeRecord(*record);
  FUZZ_CHECK(bytes.isOk(), bytes.status().toString());
  Result<Record> again = decodeRecord(*bytes);
  FUZZ_CHECK(again.isOk(), again.status().toString());
  FUZZ_CHECK(*again == *record, "a decoded record changed through encode/decode");
  Result<std::string> bytes2 = encodeRecord(*again);
  FUZZ_CHECK(bytes2.isOk() && *bytes2 == *bytes, "the encoding is not canonical");
  Result<std::string> hash = computeHash(*record);
  FUZZ_CHECK(hash.isOk() && hash->size() == 32, "computeHash failed on a decodable record");
  return 0;
}
