#include "services/case/audit_chain.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace reception {

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex);
}

std::string HashCaseEvent(const cases::v1::CaseEvent& event) {
  cases::v1::CaseEvent copy = event;
  copy.clear_hash();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&out);
  }
  return Sha256Hex(bytes);
}

void SealCaseEvent(const std::string& previous_hash, cases::v1::CaseEvent* event) {
  event->set_previous_hash(previous_hash);
  event->set_hash(HashCaseEvent(*event));
}

ChainCheck CheckCaseChain(const std::vector<cases::v1::CaseEvent>& events,
                          const std::string& expected_head, int64_t expected_length) {
  ChainCheck check;
  std::string previous;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const int64_t want_seq = static_cast<int64_t>(i) + 1;
    auto fail = [&](std::string problem) {
      check.valid = false;
      check.first_invalid_sequence = want_seq;
      check.problem = std::move(problem);
      return check;
    };
    if (e.sequence() != want_seq) {
      return fail(
          absl::StrCat("event ", want_seq, " is missing (found sequence ", e.sequence(), ")"));
    }
    if (e.previous_hash() != previous) {
      return fail(absl::StrCat("event ", want_seq, " does not link to the event before it"));
    }
    if (HashCaseEvent(e) != e.hash()) {
      return fail(
          absl::StrCat("event ", want_seq, " was altered: its content does not match its hash"));
    }
    previous = e.hash();
  }
  check.head_hash = previous;
  if (static_cast<int64_t>(events.size()) != expected_length || previous != expected_head) {
    check.valid = false;
    check.first_invalid_sequence = static_cast<int64_t>(events.size()) + 1;
    check.problem = absl::StrCat("the trail holds ", events.size(), " events but the case records ",
                                 expected_length, " ending in another hash: events were removed");
  }
  return check;
}

}  // namespace reception
