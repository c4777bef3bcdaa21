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
        Command::Init(args) => commands::init::run(args),
        Command::Completions(args) => commands::completions::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Test(args) => runtime().block_on(commands::test::run(args)),
        Command::Explain(args) => runtime().block_on(commands::explain::run(args)),
        Command::Serve(args) => runtime().block_on(commands::serve::run(args)),
        Command::Migrate(args) => runtime().block_on(commands::migrate::run(args)),
        Command::Up(args) => runtime().block_on(commands::up::run(args)),
        Command::Down(args) => runtime().block_on(commands::down::run(args)),
        Command::Status(args) => runtime().block_on(commands::status::run(args)),
        Command::Pull(args) => runtime().block_on(commands::pull::run(args)),
        Command::Lock(args) => runtime().block_on(commands::lock::run(args)),
        Command::Clean(args) => runtime().block_on(commands::clean::run(args)),
        Command::Doctor(args) => runtime().block_on(commands::doctor::run(args)),
        Command::Lab(args) => runtime().block_on(commands::lab::run(args)),
    };
    std::process::exit(code);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
