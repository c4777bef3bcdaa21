use clap::Parser;

use gwlab::cli::{Cli, Command};
use gwlab::commands;

fn main() {
    // One crypto provider for every TLS user in the process (reqwest, the
    // embedded gateway): ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Test(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(commands::test::run(args))
        }
    };
    std::process::exit(code);
}
