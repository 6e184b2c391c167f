// SPDX-License-Identifier: Apache-2.0
// dhub-keygen NAME [--dir DIR] [--force]: writes DIR/NAME.key (CURVE secret key, mode 0600) and DIR/NAME.pub
// (public key), Z85 text. The .pub goes into the broker's allowlist (clients) or to the clients (broker).
#include <boost/program_options.hpp>

#include <iostream>

#include "dhub/base/exit_code.hpp"
#include "dhub/broker/keys.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
    std::string name;
    std::string directory = ".";
    po::options_description visible("Options");
    visible.add_options()                                                                                //
        ("help,h", "print this help and exit")                                                           //
        ("version", "print the version and exit")                                                        //
        ("dir", po::value<std::string>(&directory)->default_value("."), "where to write the two files")  //
        ("force", "replace existing files");
    po::options_description hidden;
    hidden.add_options()("name", po::value<std::string>(&name));
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("name", 1);
    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), values);
        po::notify(values);
    } catch (const po::error& error) {
        std::cerr << "dhub-keygen: " << error.what() << " (see dhub-keygen --help)\n";
        return dhub::to_int(dhub::ExitCode::Usage);
    }
    if (values.count("help") != 0) {
        std::cout << "usage: dhub-keygen [options] NAME\n\nWrites a CURVE key pair: NAME.key (secret, mode 0600) and "
                     "NAME.pub (public), one Z85 line each.\n\n"
                  << visible
                  << dhub::exit_codes_help({
                         {dhub::ExitCode::Ok, "the key pair was written; the public key is printed"},
                         {dhub::ExitCode::InvalidInput, "NAME.key or NAME.pub exists (use --force to replace)"},
                         {dhub::ExitCode::Usage, ""},
                         {dhub::ExitCode::RuntimeError, "the keys could not be generated or written"},
                     });
        return dhub::to_int(dhub::ExitCode::Ok);
    }
    if (values.count("version") != 0) {
        std::cout << "dhub-keygen " << DHUB_VERSION << "\n";
        return 0;
    }
    if (name.empty() || name.find('/') != std::string::npos) {
        std::cerr << "dhub-keygen: give a NAME without '/' (the files are NAME.key and NAME.pub; use --dir for the "
                     "directory)\n";
        return dhub::to_int(dhub::ExitCode::Usage);
    }
    auto pair = dhub::broker::generate_curve_keypair();
    if (!pair) {
        std::cerr << "dhub-keygen: " << pair.error().message << "\n";
        return dhub::to_int(dhub::ExitCode::RuntimeError);
    }
    const auto overwrite =
        values.count("force") != 0 ? dhub::broker::Overwrite::Allow : dhub::broker::Overwrite::Refuse;
    auto written = dhub::broker::write_keypair_files(*pair, directory, name, overwrite);
    if (!written) {
        std::cerr << "dhub-keygen: " << written.error().message << "\n";
        return dhub::to_int(written.error().code == dhub::ErrorCode::AlreadyExists ? dhub::ExitCode::InvalidInput
                                                                                   : dhub::ExitCode::RuntimeError);
    }
    std::cout << pair->public_key << "\n";
    return 0;
}
