// SPDX-License-Identifier: Apache-2.0
// Thin entry point: argv and sshd's environment -> Invocation; pipeline::run(); exit status.
#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "wrapper/pipeline.h"
#include "wrapper/request/command.h"

namespace {

// True when `c_string` starts with this very program: sshd runs the login shell as
// `SHELL -c FORCECOMMAND`, and without a client command it sets no SSH_ORIGINAL_COMMAND, so the
// -c string is then just the wrapper's own path (an interactive `ssh host`). Nothing in the
// string is ever used as an option: the request is simply empty, which shows the listing.
bool names_this_program(const std::string& c_string) {
    auto argv = diag::command::tokenize(c_string);
    if (!argv.ok() || argv->empty()) {
        return false;
    }
    const std::string& first = (*argv)[0];
    char self[PATH_MAX];
    char named[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0 && ::realpath(first.c_str(), named) != nullptr) {
        self[n] = '\0';
        if (std::strcmp(self, named) == 0) {
            return true;
        }
    }
    return first.substr(first.rfind('/') + 1) == "diag-wrapper";
}

[[noreturn]] void usage_error(const std::string& msg) {
    const std::string out = "diag-wrapper: error: " + msg +
                            " (usage: diag-wrapper [--policy FILE] [--check [--build [--include DIR]...] |"
                            " --compile | --explain -- CMD | -c CMD])\n";
    (void)!::write(STDERR_FILENO, out.data(), out.size());
    std::_Exit(diag::pipeline::kExitError);
}

// The policy path comes only from argv or the compiled default, never from the environment, and
// never from the -c string: without a ForceCommand that string is the client's.
diag::pipeline::Invocation parse_args(int argc, char** argv) {
    diag::pipeline::Invocation inv;
    bool have_c = false;
    std::string c_string;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--policy" && i + 1 < argc) {
            inv.policy_path = argv[++i];
        } else if (a == "--check") {
            inv.mode = diag::pipeline::Mode::kCheck;
        } else if (a == "--compile") {
            inv.mode = diag::pipeline::Mode::kCompile;
        } else if (a == "--build") {
            inv.build_check = true;
        } else if (a == "--include" && i + 1 < argc) {
            if (!inv.include) {
                inv.include.emplace();
            }
            inv.include->push_back(argv[++i]);
        } else if (a == "--explain") {
            inv.mode = diag::pipeline::Mode::kExplain;
            if (i + 1 < argc && std::strcmp(argv[i + 1], "--") == 0) {
                ++i;
            }
            if (i + 1 >= argc) {
                usage_error("--explain needs the command to explain");
            }
            inv.request = argv[++i];
            if (i + 1 < argc) {
                usage_error("--explain takes the command as one argument");
            }
        } else if (a == "-c" && i + 1 < argc) {
            have_c = true;
            c_string = argv[++i];
            if (i + 1 < argc) {
                usage_error("-c takes exactly one argument");
            }
        } else {
            usage_error("unknown argument '" + a + "'");
        }
    }
    // --build drops the ownership checks, so it may only print a verdict (--check), and
    // --include only redirects that check: neither can reach a request.
    if (inv.build_check && inv.mode != diag::pipeline::Mode::kCheck) {
        usage_error("--build is a mode of --check");
    }
    if (inv.include && !inv.build_check) {
        usage_error("--include is only for --check --build");
    }
    if (inv.mode == diag::pipeline::Mode::kRun) {
        // sshd sets SSH_ORIGINAL_COMMAND when a ForceCommand replaced the client's command; then the
        // -c string (when we are the login shell) is the ForceCommand itself, not the request.
        if (const char* soc = std::getenv("SSH_ORIGINAL_COMMAND")) {
            inv.request = soc;
        } else if (have_c && !names_this_program(c_string)) {
            inv.request = c_string;
        } else if (have_c) {
            inv.ignored_c = c_string;
        }
    }
    return inv;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return diag::pipeline::run(parse_args(argc, argv));
    } catch (...) {
        // Our code throws nothing; this is for std::bad_alloc and library surprises: deny.
        const char msg[] = "diag-wrapper: error: internal error; nothing was run\n";
        (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
        return diag::pipeline::kExitError;
    }
}
