// The node's key pair for sealed boxes (libsodium, X25519): a source node
// seals a protected identity for the destination's public key so that only
// the node that becomes the owner can open it in transit.
#ifndef RECEPTION_SERVICES_CASE_NODE_KEY_H_
#define RECEPTION_SERVICES_CASE_NODE_KEY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reception {

// Thread-safe after Open.
class NodeKey {
 public:
  // Reads "public-hex secret-hex" from `path`, creating it (mode 0600) with a
  // fresh pair when missing.
  static absl::StatusOr<std::unique_ptr<NodeKey>> Open(const std::string& path);
  ~NodeKey();

  const std::string& public_key() const { return public_; }  // 32 bytes
  // Hex of the first 8 bytes of a BLAKE2b hash of the public key.
  const std::string& key_id() const { return key_id_; }
  static std::string KeyId(absl::string_view public_key);

  // Seals `plaintext` for the holder of `public_key`; INVALID_ARGUMENT for a
  // key that is not 32 bytes.
  static absl::StatusOr<std::string> SealFor(absl::string_view public_key,
                                             absl::string_view plaintext);
  // Opens a box sealed for this node; DATA_LOSS when it was not, or altered.
  absl::StatusOr<std::string> OpenSealed(absl::string_view sealed) const;

  // The citizen's receipt code for a case number this node issues a receipt
  // for: 12 digits, a keyed hash of the number under a key derived from the
  // node's secret (nothing is stored; the same number gives the same code).
  std::string ReceiptCode(absl::string_view case_number) const;
  // Whether `code` (12 digits) is the receipt code of `case_number`; the
  // same work whatever the answer.
  bool ReceiptCodeMatches(absl::string_view case_number, absl::string_view code) const;

 private:
  NodeKey() = default;
  std::string public_, secret_, key_id_, receipt_key_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_NODE_KEY_H_
