//! Where a run's events go. The runner emits them as they happen (a note, a
//! scenario's progress, a scenario finished) and once at its end (the whole
//! report); each sink takes what it renders: the terminal all of them, the
//! report files (JUnit, JSON, HTML) and the workflow annotations the end.

use std::path::PathBuf;

use super::human::Console;
use super::{RunReport, ScenarioReport};

/// Something that happened while the run goes on.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A line about the run: the target chosen, a note on the scenarios.
    Note(&'a str),
    /// What a running scenario is doing now.
    Progress(&'a str),
    /// A scenario finished, or will not run.
    Scenario(&'a ScenarioReport),
}

/// A place a run's events go.
pub trait Sink: Send + Sync {
    /// Takes an event of the running run; saying it cannot fail.
    fn during(&self, _event: Event<'_>) {}
    /// Takes the finished run's report, writing it where it goes.
    fn finished(&self, _report: &RunReport) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A report file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the {what} report to {}: {source}", path.display())]
pub struct SinkError {
    what: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

impl Sink for Console {
    fn during(&self, event: Event<'_>) {
        match event {
            Event::Note(text) => self.line(text),
            Event::Progress(what) => self.progress(what),
            Event::Scenario(s) => self.scenario(s),
        }
    }

    fn finished(&self, report: &RunReport) -> Result<(), SinkError> {
        self.finish(report);
        Ok(())
    }
}

/// A report file, written when the run has finished.
pub struct ReportFile {
    /// What it is, for an error: `JUnit`, `JSON`, `HTML`.
    what: &'static str,
    path: PathBuf,
    render: fn(&RunReport) -> String,
}

impl ReportFile {
    pub fn junit(path: PathBuf) -> Self {
        ReportFile {
            what: "JUnit",
            path,
            render: super::junit::render,
        }
    }

    pub fn json(path: PathBuf) -> Self {
        ReportFile {
            what: "JSON",
            path,
            render: super::json::render,
        }
    }

    pub fn html(path: PathBuf) -> Self {
        ReportFile {
            what: "HTML",
            path,
            render: super::html::render,
        }
    }
}

impl Sink for ReportFile {
    fn finished(&self, report: &RunReport) -> Result<(), SinkError> {
        std::fs::write(&self.path, (self.render)(report)).map_err(|source| SinkError {
            what: self.what,
            path: self.path.clone(),
            source,
        })
    }
}

/// GitHub Actions annotations of the failed checks, on stdout at the end.
pub struct Annotations;

impl Sink for Annotations {
    fn finished(&self, report: &RunReport) -> Result<(), SinkError> {
        for line in super::annotations::render(report) {
            println!("{line}");
        }
        Ok(())
    }
}

/// Every sink of a run, in the order they take each event.
pub struct Sinks(Vec<Box<dyn Sink>>);

impl Sinks {
    /// The terminal only (`console`), as for runs inside other commands.
    pub fn terminal(console: Console) -> Self {
        Sinks(vec![Box::new(console)])
    }

    /// `sink` too, after those before it.
    pub fn with(mut self, sink: impl Sink + 'static) -> Self {
        self.0.push(Box::new(sink));
        self
    }

    pub fn note(&self, text: &str) {
        self.during(Event::Note(text));
    }

    pub fn progress(&self, what: &str) {
        self.during(Event::Progress(what));
    }

    pub fn scenario(&self, s: &ScenarioReport) {
        self.during(Event::Scenario(s));
    }

    fn during(&self, event: Event<'_>) {
        for sink in &self.0 {
            sink.during(event);
        }
    }

    /// The finished report to every sink in order, stopping at the first
    /// that cannot take it (as a run stops at the first report it cannot
    /// write).
    pub fn finished(&self, report: &RunReport) -> Result<(), SinkError> {
        self.0.iter().try_for_each(|sink| sink.finished(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{run_of, scenario_of};
    use std::sync::Mutex;

    /// A sink that writes down what it was told.
    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);

    impl Sink for Record {
        fn during(&self, event: Event<'_>) {
            let said = match event {
                Event::Note(t) => format!("note {t}"),
                Event::Progress(p) => format!("progress {p}"),
                Event::Scenario(s) => format!("scenario {}", s.name),
            };
            self.0.lock().unwrap().push(said);
        }

        fn finished(&self, report: &RunReport) -> Result<(), SinkError> {
            self.0
                .lock()
                .unwrap()
                .push(format!("finished {}", report.run_id));
            Ok(())
        }
    }

    impl Sink for std::sync::Arc<Record> {
        fn during(&self, event: Event<'_>) {
            self.as_ref().during(event)
        }
        fn finished(&self, report: &RunReport) -> Result<(), SinkError> {
            self.as_ref().finished(report)
        }
    }

    #[test]
    fn every_sink_takes_every_event_in_order_and_files_are_written_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("r.json");
        let record = std::sync::Arc::new(Record::default());
        let sinks = Sinks::terminal(Console::new(true))
            .with(record.clone())
            .with(ReportFile::json(json.clone()));
        sinks.note("target: embedded");
        sinks.progress("canary: checking");
        let scenario = scenario_of(vec![]);
        sinks.scenario(&scenario);
        assert!(!json.exists(), "a report file waits for the end");
        sinks.finished(&run_of("embedded", vec![scenario])).unwrap();
        assert_eq!(
            *record.0.lock().unwrap(),
            [
                "note target: embedded",
                "progress canary: checking",
                "scenario canary",
                "finished r"
            ]
        );
        let written = std::fs::read_to_string(&json).unwrap();
        assert!(written.contains("\"runId\": \"r\""), "{written}");
    }

    #[test]
    fn a_report_file_that_cannot_be_written_stops_the_ones_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let html = dir.path().join("r.html");
        let sinks = Sinks::terminal(Console::new(true))
            .with(ReportFile::json(dir.path().join("no/such/dir/r.json")))
            .with(ReportFile::html(html.clone()));
        let e = sinks.finished(&run_of("embedded", vec![])).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "cannot write the JSON report to {}: ",
                dir.path().join("no/such/dir/r.json").display()
            )),
            "{e}"
        );
        assert!(!html.exists());
    }
}
