// SPDX-License-Identifier: Apache-2.0
// Thin entry point of diag-audit: argv -> Options; audit_cli::run(); exit status.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/cli.h"
#include "wrapper/audit/render.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) { g_stop = 1; }

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;  // stdout closed (EPIPE is a SIGPIPE first, as for any filter)
        }
        s.remove_prefix(static_cast<size_t>(n));
    }
}

int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    using diag::audit_cli::kExitError;
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        auto opts = diag::audit_cli::parse_args(args, now_us());
        if (!opts.ok()) {
            write_all(STDERR_FILENO, "diag-audit: error: " + diag::audit_render::escape(opts.error().msg) +
                                         " (see diag-audit --help)\n");
            return kExitError;
        }
        // No SA_RESTART: the follow loop's poll() returns EINTR and sees g_stop at once.
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
        diag::audit_cli::Io io;
        io.out = [](std::string_view s) { write_all(STDOUT_FILENO, s); };
        io.err = [](std::string_view s) { write_all(STDERR_FILENO, s); };
        io.stop = &g_stop;
        return diag::audit_cli::run(*opts, io);
    } catch (...) {
        // Our code throws nothing; this is for std::bad_alloc and library surprises.
        write_all(STDERR_FILENO, "diag-audit: error: internal error\n");
        return kExitError;
    }
}
