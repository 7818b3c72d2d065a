// Encryption at rest of personal data (denouncers' identities in the case
// service, registered citizens in scheduling), and keyed fingerprints that
// let a service compare personal data without storing it in clear.
// libsodium underneath; no hand-written cryptography.
#ifndef RECEPTION_SERVICES_COMMON_IDENTITY_VAULT_H_
#define RECEPTION_SERVICES_COMMON_IDENTITY_VAULT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/sealed.pb.h"

namespace reception {

// Thread-safe after Open.
class IdentityVault {
 public:
  // Reads keys from `path`: lines "key_id hex32bytes", '#' comments; the last
  // key encrypts, all decrypt (rotation). When the file is missing and
  // `create_if_missing`, writes one fresh key with mode 0600.
  static absl::StatusOr<std::unique_ptr<IdentityVault>> Open(const std::string& path,
                                                             bool create_if_missing);

  // The node's vault: `identity_key_file`, created on first start only when
  // it is the default "<data_dir>/identity.keys" (a configured file that is
  // missing is an error, not a fresh key). One file for every service.
  static absl::StatusOr<std::unique_ptr<IdentityVault>> ForNode(
      const std::string& identity_key_file, const std::string& data_dir);

  ~IdentityVault();

  // Encrypts with the active key; `bound_to` (a case number, a
  // registration's name) is bound as associated data.
  common::Sealed Seal(absl::string_view plaintext, absl::string_view bound_to) const;

  // Decrypts; DATA_LOSS if the key is unknown or the ciphertext was altered
  // or belongs to another record.
  absl::StatusOr<std::string> Unseal(const common::Sealed& sealed,
                                     absl::string_view bound_to) const;

  // A 32-byte keyed hash (BLAKE2b) with a key derived from the first key in
  // the file, so fingerprints survive rotation.
  std::string Fingerprint(absl::string_view data) const;

  const std::string& active_key_id() const { return keys_.back().id; }

 private:
  struct Key {
    std::string id;
    std::string bytes;  // 32 bytes
  };
  IdentityVault() = default;
  std::vector<Key> keys_;
  std::string fingerprint_key_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_IDENTITY_VAULT_H_
