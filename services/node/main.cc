// receptiond: the all-in-one node hosting every service in one process, for a
// commune PC or a laptop. Today it hosts the case service (with handoffs),
// the routing service, which calls the case service through an in-process
// channel with the same client code it uses across processes, and the media
// service (online reception rooms); scheduling joins as it is built.
#include "services/case/case_service.h"
#include "services/common/node_runtime.h"
#include "services/media/media_service.h"
#include "services/routing/routing_service.h"

int main(int argc, char** argv) {
  return reception::RunNode(argc, argv, "receptiond",
                            {&reception::CaseModule::Create, &reception::RoutingModule::Create,
                             &reception::media::MediaModule::Create});
}
