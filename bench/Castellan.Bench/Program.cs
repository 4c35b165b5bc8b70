using Castellan.Bench;

// Modes:
//   http  [--duration 15] [--warmup 5] [--connections 16] [--threads 2] [--only a,b]   the HTTP benchmark (needs wrk)
//   micro                                                                             BenchmarkDotNet, in-process
//   serve <variant> <port> <key-pem> [authority] [--database <connection string>]     a child server (used by http)
return args.FirstOrDefault() switch
{
    "http" => await HttpBenchmark.RunAsync(args[1..]),
    "micro" => MicroBenchmarks.Run(args[1..]),
    "serve" => await ChildServer.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Castellan.Bench http [--duration S] [--warmup S] [--connections N] [--threads N] [--only v1,v2] | micro | serve <variant> <port> <key-pem> [authority] [--database <connection string>]");
    return 2;
}
