// Open WatchRoom streams, by room. Whoever produces a room's events (the
// room registry on the host, a bridge link on a bridge point's node) calls
// Notify(room) after each; every stream on that room then reads what it has
// not sent yet. A participant watching under its id has a stream here, which
// is how a bridge site's presence follows its link.
#ifndef RECEPTION_SERVICES_MEDIA_ROOM_WATCH_H_
#define RECEPTION_SERVICES_MEDIA_ROOM_WATCH_H_

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "reception/media/v1/media_service.pb.h"

namespace reception::media {

class RoomWatchers {
 public:
  // One open stream. Reference counted: Notify holds a reference while it
  // wakes the stream, so a stream that ends meanwhile is deleted after.
  class Watcher {
   public:
    virtual ~Watcher() = default;
    // New events may be there (called from any thread).
    virtual void Wake() = 0;
    void Ref() { refs_.fetch_add(1); }
    void Unref() {
      if (refs_.fetch_sub(1) == 1) delete this;
    }

   private:
    std::atomic<int> refs_{1};
  };

  // `participant` may be empty (an anonymous watcher).
  void Add(const std::string& room, const std::string& participant, Watcher* w);
  // True when `participant` has no other open stream on the room.
  bool Remove(const std::string& room, const std::string& participant, Watcher* w);
  bool HasStream(const std::string& room, const std::string& participant) const;
  void Notify(const std::string& room);
  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::set<Watcher*>> by_room_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, int> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_ROOM_WATCH_H_
