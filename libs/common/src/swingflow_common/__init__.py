"""swingflow shared code: messages, subjects, config, data, analysis and the pipeline."""
