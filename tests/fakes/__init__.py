"""Local fakes of outside services (Hugging Face Hub, feeds), bound to 127.0.0.1 only."""
