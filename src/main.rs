fn main() -> std::process::ExitCode {
    interview_coach::cli::main()
}
