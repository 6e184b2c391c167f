// SPDX-License-Identifier: Apache-2.0
#include "interpreter.hpp"

#include <dlfcn.h>

#include <pybind11/embed.h>

#include <filesystem>
#include <system_error>
#include <vector>

namespace dhub::plugins::python {
namespace {

namespace py = pybind11;

/// The kernel loads plugins RTLD_LOCAL, so the libpython this plugin pulled in is invisible to the extension
/// modules Python loads later (numpy's), which expect the interpreter's symbols in the global scope:
/// promoting the already loaded library to RTLD_GLOBAL is what a python3 executable gets for free.
std::string promote_libpython() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&Py_IsInitialized), &info) == 0 || info.dli_fname == nullptr) {
        return "cannot find the file of libpython in this process";
    }
    if (::dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD) == nullptr) {
        const char* why = ::dlerror();
        return std::string("cannot make ") + info.dli_fname + " global: " + (why != nullptr ? why : "?");
    }
    return {};
}

/// The directory this plugin's file is in.
std::filesystem::path plugin_directory() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&promote_libpython), &info) == 0 || info.dli_fname == nullptr) return {};
    return std::filesystem::path(info.dli_fname).parent_path();
}

/// Where the dhub package is: the build tree's for a plugin in the build tree, the installed one otherwise
/// (a plugin and its package come from one build: the plugin imports dhub.stage's sentinels).
std::filesystem::path package_directory() {
    std::error_code error;
    const bool in_build_tree = std::filesystem::equivalent(plugin_directory(), DHUB_PLUGIN_BUILD_DIR, error);
    const std::filesystem::path directory =
        in_build_tree ? std::filesystem::path(DHUB_PYTHON_BUILD_DIR)
                      : (plugin_directory() / DHUB_PYTHON_INSTALLED_RELATIVE).lexically_normal();
    return std::filesystem::is_directory(directory, error) ? directory : std::filesystem::path();
}

std::string status_text(const PyStatus& status) {
    std::string text = status.err_msg != nullptr ? status.err_msg : "failed";
    if (status.func != nullptr) text = std::string(status.func) + ": " + text;
    return text;
}

std::string start_interpreter() {
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    // The process's signals are the kernel's (its sigwait thread, the host's ignored SIGINT): Python must not
    // install handlers, nor read a command line that is not its own.
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    // The interpreter the dhub package and numpy were built for, whatever python3 comes first on PATH: it
    // decides sys.prefix, hence the standard library and site-packages.
    PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, DHUB_PYTHON_EXECUTABLE);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    return PyStatus_Exception(status) ? "cannot start the Python interpreter: " + status_text(status) : "";
}

std::string prepare() {
    if (std::string failure = promote_libpython(); !failure.empty()) return failure;
    // Embedded in a Python program (a kernel run from Python): that interpreter is the one to use, and its
    // owner holds and releases the GIL.
    const bool started_here = Py_IsInitialized() == 0;
    if (started_here) {
        if (std::string failure = start_interpreter(); !failure.empty()) return failure;
    }
    std::string failure;
    {
        py::gil_scoped_acquire gil;
        try {
            if (const std::filesystem::path package = package_directory(); !package.empty()) {
                // First on sys.path, before PYTHONPATH: the plugin needs the package of its own build.
                const py::object path = py::module_::import("sys").attr("path");
                while (path.attr("count")(package.string()).cast<int>() > 0)
                    path.attr("remove")(package.string());
                path.attr("insert")(0, package.string());
            }
            (void)py::module_::import("dhub._plugin");
        } catch (const py::error_already_set& error) {
            failure = std::string("the dhub Python package cannot be imported: ") + error.what() +
                      "; build it (target dhub_python_sources) or put it on PYTHONPATH";
        }
    }
    // The thread that started the interpreter holds the GIL: give it up for the node threads.
    if (started_here) (void)PyEval_SaveThread();
    return failure;
}

}  // namespace

const std::string& ensure_interpreter() {
    static const std::string failure = prepare();  // once per process, other threads wait for it
    return failure;
}

}  // namespace dhub::plugins::python
