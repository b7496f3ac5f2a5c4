// File: smgcore/smgcore.h
//
// Umbrella header: includes the whole public C++ API of smgcore.
#ifndef SMGCORE_SMGCORE_H_
#define SMGCORE_SMGCORE_H_

#include "smgcore/admission_metrics.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/clock.h"
#include "smgcore/concurrency_limiter.h"
#include "smgcore/health.h"
#include "smgcore/metrics.h"
#include "smgcore/outcome.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/radix_tree.h"
#include "smgcore/random.h"
#include "smgcore/request.h"
#include "smgcore/retry.h"
#include "smgcore/retry_policy.h"
#include "smgcore/router.h"
#include "smgcore/tenant_limiter.h"
#include "smgcore/ticket.h"
#include "smgcore/token_bucket.h"
#include "smgcore/version.h"
#include "smgcore/worker.h"

#endif  // SMGCORE_SMGCORE_H_
