// receptiond: the all-in-one node hosting every service in one process, for a
// commune PC or a laptop. Today it hosts the case service (with handoffs),
// the routing service, which calls the case service through an in-process
// channel with the same client code it uses across processes, and the media
// service (online reception rooms) and the scheduling service (reception
// calendars, sessions, registration), which asks the media service for each
// online session's room over the same in-process channel.
#include "services/case/case_service.h"
#include "services/common/node_runtime.h"
#include "services/media/media_service.h"
#include "services/routing/routing_service.h"
#include "services/scheduling/scheduling_service.h"

int main(int argc, char** argv) {
  return reception::RunNode(
      argc, argv, "receptiond",
      {&reception::CaseModule::Create, &reception::RoutingModule::Create,
       &reception::media::MediaModule::Create, &reception::scheduling::SchedulingModule::Create});
}
