"""The web edge both APIs are built from: app factory, auth, problems, middleware, the
request dependencies. Above the domain (`services`), below the two APIs."""
