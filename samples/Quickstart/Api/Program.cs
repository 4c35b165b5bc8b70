using Quickstart.Api;

await ApiApp.Build(args).RunAsync();
