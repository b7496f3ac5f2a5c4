/* A C program built against the installed C ABI through pkg-config
 * (smgcore_c.pc): routes one request and checks the versions agree. */
#include <stdio.h>

#include "smgcore/smgcore_c.h"

int main(void) {
  smg_router_t* router = NULL;
  smg_worker_spec_t spec;
  smg_request_t req;
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_selection_t sel;
  if (smg_abi_version() != SMG_ABI_VERSION) return 1;
  if (smg_router_create(NULL, &router, NULL) != SMG_OK) return 2;
  smg_worker_spec_init(&spec);
  spec.url = smg_cstr("http://127.0.0.1:30000");
  if (smg_router_add_worker(router, &spec, NULL, NULL) != SMG_OK) return 3;
  smg_request_init(&req);
  req.text = smg_cstr("hello");
  if (smg_router_select(router, &req, &ticket, &sel, NULL) != SMG_OK) return 4;
  printf("C consumer routed to %.*s (smgcore %s)\n", (int)sel.url.len, sel.url.data,
         smg_version_string());
  if (smg_ticket_finish(&ticket, 200, NULL) != SMG_OK) return 5;
  smg_router_destroy(router);
  return 0;
}
