//! `kiln devices`: the lesson's "check the GPU" step.

/// Options of `kiln devices`.
#[derive(clap::Args, Debug)]
pub struct DevicesArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DevicesArgs) -> kiln::Result<()> {
    let report = kiln::devices::report();
    if args.json {
        kiln::outln!("{}", serde_json::to_string_pretty(&report).expect("plain data serialises"));
    } else {
        kiln::out!("{report}");
    }
    Ok(())
}
