// SPDX-License-Identifier: GPL-2.0-only
/*
 * Built with emul/'s headers and fuzz/include's shims: a declaration in
 * stream_codec.h that differs from emul/stream.h's fails the build.
 */
#include "stream.h"
#include "stream_codec.h"
