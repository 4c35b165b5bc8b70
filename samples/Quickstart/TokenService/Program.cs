using Quickstart.TokenService;

await TokenServiceApp.Build(args).RunAsync();
