using WebApp;

await WebAppApp.Build(args).RunAsync();
