#include "services/common/node_config.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

std::string Resolve(const std::filesystem::path& base, const std::string& p) {
  if (p.empty()) return p;
  std::filesystem::path path(p);
  if (path.is_absolute()) return p;
  return (base / path).lexically_normal().string();
}

}  // namespace

absl::StatusOr<config::v1::NodeConfig> LoadNodeConfig(const std::string& path,
                                                      const ConfigOverrides& overrides) {
  config::v1::NodeConfig c;
  auto s = LoadYamlFile(path, &c);
  if (!s.ok()) return s;
  auto missing = [&](absl::string_view key) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key, " must be set"));
  };
  if (!overrides.listen_address.empty()) c.set_listen_address(overrides.listen_address);
  if (!overrides.admin_address.empty()) c.set_admin_address(overrides.admin_address);
  if (!overrides.data_dir.empty()) c.set_data_dir(overrides.data_dir);
  if (c.listen_address().empty()) c.set_listen_address("127.0.0.1:50051");
  if (c.admin_address().empty()) c.set_admin_address("127.0.0.1:9464");
  if (c.unit_code().empty()) return missing("unit_code");
  if (c.data_dir().empty()) return missing("data_dir (or --data_dir)");
  if (c.topology_file().empty()) return missing("topology_file");
  if (c.rules_file().empty()) return missing("rules_file");
  if (c.calendar_file().empty()) return missing("calendar_file");
  const std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  c.set_topology_file(Resolve(base, c.topology_file()));
  c.set_rules_file(Resolve(base, c.rules_file()));
  c.set_calendar_file(Resolve(base, c.calendar_file()));
  c.set_data_dir(Resolve(std::filesystem::current_path(), c.data_dir()));
  if (c.identity_key_file().empty()) {
    c.set_identity_key_file((std::filesystem::path(c.data_dir()) / "identity.keys").string());
  } else {
    c.set_identity_key_file(Resolve(base, c.identity_key_file()));
  }
  if (!c.backup().dir().empty()) c.mutable_backup()->set_dir(Resolve(base, c.backup().dir()));
  if (!c.duplicates().matching_key_file().empty()) {
    c.mutable_duplicates()->set_matching_key_file(
        Resolve(base, c.duplicates().matching_key_file()));
  }
  auto* docs = c.mutable_documents();
  if (!docs->forms_file().empty()) docs->set_forms_file(Resolve(base, docs->forms_file()));
  if (docs->lookups_per_minute_per_address() == 0) docs->set_lookups_per_minute_per_address(6);
  if (docs->lookups_per_minute() == 0) docs->set_lookups_per_minute(600);
  if (docs->lookups_per_minute_per_address() < 1 || docs->lookups_per_minute() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": documents.lookups_per_minute_per_address and lookups_per_minute must be positive"));
  }
  auto* st = c.mutable_storage();
  if (st->sync_policy() == config::v1::SYNC_POLICY_UNSPECIFIED) {
    st->set_sync_policy(config::v1::SYNC_POLICY_GROUP_FSYNC);
  }
  if (st->max_group_size() == 0) st->set_max_group_size(1024);
  if (st->max_group_size() < 1 || st->max_group_size() > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": storage.max_group_size must be between 1 and 65536"));
  }
  if (st->write_buffer_mib() == 0) st->set_write_buffer_mib(128);
  if (st->write_buffer_mib() < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": storage.write_buffer_mib must be at least 4"));
  }
  if (st->block_cache_mib() == 0) st->set_block_cache_mib(64);
  if (st->block_cache_mib() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": storage.block_cache_mib must be positive"));
  }
  if (c.auth().mode() == config::v1::AUTH_MODE_UNSPECIFIED) {
    c.mutable_auth()->set_mode(config::v1::AUTH_MODE_DEV_METADATA);
  }
  if (c.auth().mode() == config::v1::AUTH_MODE_MTLS) {
    auto* tls = c.mutable_auth()->mutable_tls();
    if (tls->ca_file().empty()) return missing("auth.tls.ca_file (mTLS mode)");
    if (tls->cert_file().empty()) return missing("auth.tls.cert_file (mTLS mode)");
    if (tls->key_file().empty()) return missing("auth.tls.key_file (mTLS mode)");
    tls->set_ca_file(Resolve(base, tls->ca_file()));
    tls->set_cert_file(Resolve(base, tls->cert_file()));
    tls->set_key_file(Resolve(base, tls->key_file()));
    if (tls->trust_domain().empty()) tls->set_trust_domain("reception.local");
    if (tls->refresh_seconds() == 0) tls->set_refresh_seconds(60);
    if (tls->refresh_seconds() < 1 || tls->refresh_seconds() > 86400) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": auth.tls.refresh_seconds must be 1-86400"));
    }
    auto* jwt = c.mutable_auth()->mutable_jwt();
    if (!jwt->jwks_file().empty()) {
      jwt->set_jwks_file(Resolve(base, jwt->jwks_file()));
      if (jwt->issuer().empty()) return missing("auth.jwt.issuer (with auth.jwt.jwks_file)");
      if (jwt->audience().empty()) return missing("auth.jwt.audience (with auth.jwt.jwks_file)");
    }
    for (const std::string* f : {&tls->ca_file(), &tls->cert_file(), &tls->key_file()}) {
      if (!std::filesystem::exists(*f)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": auth.tls: ", *f, " does not exist"));
      }
    }
  }
  if (c.auth().mode() != config::v1::AUTH_MODE_MTLS && c.auth().has_jwt()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": auth.jwt needs auth.mode mtls (tokens travel only over TLS)"));
  }
  if (c.logging().level().empty()) c.mutable_logging()->set_level("info");
  auto* media = c.mutable_media();
  if (media->backend().empty()) media->set_backend("none");
  if (media->backend() != "none" && media->backend() != "janus") {
    return absl::InvalidArgumentError(absl::StrCat(path, ": media.backend must be none or janus"));
  }
  if (media->backend() == "janus" && media->janus_url().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": media.janus_url must be set for the janus backend"));
  }
  if (media->heartbeat_timeout_seconds() == 0) media->set_heartbeat_timeout_seconds(30);
  if (media->heartbeat_timeout_seconds() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": media.heartbeat_timeout_seconds must be positive"));
  }
  auto* dup = c.mutable_duplicates();
  if (dup->window_days() == 0) dup->set_window_days(180);
  if (dup->min_similarity_percent() == 0) dup->set_min_similarity_percent(50);
  if (dup->window_days() < 1 || dup->min_similarity_percent() < 1 ||
      dup->min_similarity_percent() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": duplicates.window_days must be positive and min_similarity_percent between 1 and 100"));
  }
  auto* fed = c.mutable_federation();
  if (fed->retry_initial_millis() == 0) fed->set_retry_initial_millis(200);
  if (fed->retry_max_millis() == 0) fed->set_retry_max_millis(30000);
  if (fed->call_timeout_millis() == 0) fed->set_call_timeout_millis(5000);
  if (fed->follow().heartbeat_millis() == 0) fed->mutable_follow()->set_heartbeat_millis(2000);
  if (fed->follow().batch_millis() == 0) fed->mutable_follow()->set_batch_millis(50);
  if (fed->follow().batch_millis() > fed->follow().heartbeat_millis()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": federation.follow.batch_millis must not exceed heartbeat_millis"));
  }
  if (fed->follow().heartbeat_millis() < 50) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": federation.follow.heartbeat_millis must be at least 50"));
  }
  if (fed->retry_initial_millis() < 1 || fed->retry_max_millis() < fed->retry_initial_millis() ||
      fed->call_timeout_millis() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": federation retry_initial_millis, retry_max_millis (not below the initial) and "
        "call_timeout_millis must be positive"));
  }
  for (int i = 0; i < fed->peers_size(); ++i) {
    const auto& peer = fed->peers(i);
    if (peer.unit_code().empty() || peer.address().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": federation.peers[", i, "] needs unit_code and address"));
    }
    if (peer.unit_code() == c.unit_code()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": federation.peers[", i, "] is this node's own unit"));
    }
  }
  if (c.shutdown_grace_seconds() == 0) c.set_shutdown_grace_seconds(10);
  if (c.shutdown_grace_seconds() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": shutdown_grace_seconds must not be negative"));
  }
  return c;
}

}  // namespace reception
