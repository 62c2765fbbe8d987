"""Mail providers: one module per service, all behind ``gazette.mail.base.Provider``."""
