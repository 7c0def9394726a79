// SPDX-License-Identifier: GPL-2.0
/*
 * kecho_rs module parameters (module_param() is a macro bindgen cannot reach) and the shared
 * C shims.
 */
#include "helpers.c"
#include "params.h"

KTCP_SERVER_PARAMS(12345, "is closed")
