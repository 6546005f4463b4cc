// SPDX-License-Identifier: Apache-2.0
// The least any supervising wrapper costs: one more process that forks, execs the command and
// waits. No policy, no checks, no confinement, no record, no C++ runtime, linked statically.
// bench/run.sh runs it in place of diag-wrapper to show how much of the overhead is process
// creation on the machine at hand.
//   SSH_ORIGINAL_COMMAND="cat FILE" diag_bench_floor [ignored args]   (execs /usr/bin/cat FILE)
// The command gets this program's environment (diag_bench gives it the wrapper's child's).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main() {
    const char* request = std::getenv("SSH_ORIGINAL_COMMAND");
    static char words[4096];
    if (request == nullptr || std::strlen(request) >= sizeof words - 16) {
        return 2;
    }
    std::strcpy(words, request);
    char path[4200];
    char* argv[16] = {};
    int argc = 0;
    for (char* tok = std::strtok(words, " "); tok != nullptr && argc < 15; tok = std::strtok(nullptr, " ")) {
        argv[argc++] = tok;
    }
    if (argc == 0) {
        return 2;
    }
    std::snprintf(path, sizeof path, "/usr/bin/%s", argv[0]);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execve(path, argv, environ);
        ::_exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) {
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
