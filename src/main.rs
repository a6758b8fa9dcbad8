//! The `homeward` binary: parse the command line, start logging, hand over to the library.

use clap::Parser;

#[tokio::main]
async fn main() {
    let _ = dotenvy::dotenv();
    let cli = homeward::cli::Cli::parse();
    if let Err(error) = homeward::telemetry::init_logging(cli.settings.log_format) {
        eprintln!("error: {error:#}");
        std::process::exit(2);
    }
    match homeward::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(2);
        }
    }
}
