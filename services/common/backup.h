// Online backups of a node (BackupService) and their offline restore
// (receptionctl admin restore). No gRPC here.
//
// A backup is a directory `{backup.dir}/{id}` holding a RocksDB checkpoint
// of every store the process holds (stores/{relative path}), the regular
// files of the data directory (data/: the node key, the identity keys by
// default) and the key files the configuration names elsewhere (keys/),
// with MANIFEST.textproto (admin.v1.Backup) written last: a directory
// without it is an unfinished backup and restore refuses it. The directory
// is made private (0700): it holds keys.
#ifndef RECEPTION_SERVICES_COMMON_BACKUP_H_
#define RECEPTION_SERVICES_COMMON_BACKUP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reception/admin/v1/backup_service.pb.h"
#include "reception/config/v1/config.pb.h"

namespace reception {

// Written into the data directory by a restore, naming the backup; the case
// service reads it at the next start, moves its counters ahead by
// kRestoreCounterGap (case numbers and feed positions issued after the
// backup are never issued again: peers and followers hold them) and
// removes it.
inline constexpr char kRestoredMarker[] = "RESTORED_FROM";
inline constexpr uint64_t kRestoreCounterGap = 100000;

// The id of a backup taken at `now` with `label` ("" or 1-40 of [a-z0-9-];
// INVALID_ARGUMENT naming `label` otherwise).
absl::StatusOr<std::string> BackupId(absl::Time now, const std::string& label);

// Takes a backup of every store open in this process and the node's key
// files, under config.backup().dir(). FAILED_PRECONDITION without one.
absl::StatusOr<admin::v1::Backup> TakeBackup(const config::v1::NodeConfig& config,
                                             const std::string& label, absl::Time now);

// Restores `backup_dir` for the node `config` describes: its stores and
// data files into config.data_dir(), which must hold none of the stores
// yet, and its key files to where the configuration names them (an
// existing different file there is refused). Returns what it did, a line
// each. The node must not be running.
absl::StatusOr<std::vector<std::string>> RestoreBackup(const std::string& backup_dir,
                                                       const config::v1::NodeConfig& config);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_BACKUP_H_
